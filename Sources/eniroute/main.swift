// eniroute: policy routing for multi-ENI EC2 instances.
// Everything lives in ENIRouteCLI; this file only hands over the process's arguments.
#if canImport(Glibc)
    import Glibc
#endif
import ENIRouteCLI

let code = ENIRoute.main(arguments: Array(CommandLine.arguments.dropFirst()))
exit(code.rawValue)
