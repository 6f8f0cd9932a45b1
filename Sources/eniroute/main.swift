import ENIRouteCLI

// eniroute: policy routing for multi-ENI EC2 instances.
// Everything lives in ENIRouteCLI; this file only hands over the process's arguments.
#if canImport(Glibc)
    import Glibc
#endif

// The Swift runtime reads the command line from /proc/self/cmdline; without /proc (a bare chroot)
// it sees none at all, not even the program name. Refuse rather than run as if given no command.
guard !CommandLine.arguments.isEmpty else {
    let message = "eniroute: cannot read the command line (is /proc mounted?)\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(ExitStatus.usage.rawValue)
}
exit(ENIRoute.main(arguments: Array(CommandLine.arguments.dropFirst())).rawValue)
