// eniroute-imds-sim: serves an IMDS scenario for tests and the demo (not shipped in the .deb).
import ENIRouteCore
import ENIRouteSystem
import Foundation
import IMDSSimulator

#if canImport(Glibc)
    import Glibc
#endif

let usage = """
    usage: eniroute-imds-sim --scenario FILE --listen ADDR:PORT [--ready-file PATH] [--ready-fd N] [--write-mode whole|split] [--verbose]

    Serves the EC2 instance metadata in FILE (see docs/simulator.md) over HTTP on ADDR:PORT
    (IPv4 or bracketed IPv6 literal; port 0 picks a free port) with IMDSv2 token semantics,
    faults and propagation delays, until SIGTERM or SIGINT. SIGHUP reloads FILE.

    Once listening it prints "eniroute-imds-sim: listening on ADDR:PORT" on stdout, writes
    ADDR:PORT to the ready file (atomically) and/or to file descriptor N (then closes it).
    Runtime control: http://ADDR:PORT/_sim/... (stats, scenario, mac, fault, token).

      --scenario FILE     scenario JSON (also the files in Tests/Fixtures/imds/ with a "macs" object)
      --listen ADDR:PORT  e.g. 169.254.169.254:80, 127.0.0.1:0, [::1]:8080
      --ready-file PATH   write ADDR:PORT here once listening
      --ready-fd N        write ADDR:PORT to this inherited descriptor once listening
      --write-mode MODE   whole (default): each reply in one send(); split: the head block, then
                          the body, in two send() calls (as Python's http.server writes)
      --verbose           log every request to stderr
      --help              this text
    """

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("eniroute-imds-sim: \(message)\n".utf8))
    exit(code)
}

var scenarioPath: String?
var listen: String?
var readyFile: String?
var readyFD: Int32?
var verbose = false
var writeMode = IMDSSimulator.WriteMode.whole
var arguments = CommandLine.arguments.dropFirst()
while let arg = arguments.popFirst() {
    func value() -> String {
        guard let v = arguments.popFirst() else { fail("\(arg) needs a value\n\(usage)") }
        return v
    }
    switch arg {
    case "--scenario": scenarioPath = value()
    case "--listen": listen = value()
    case "--ready-file": readyFile = value()
    case "--ready-fd":
        let v = value()
        guard let n = Int32(v), n >= 0 else { fail("--ready-fd: not a descriptor: \(v)") }
        readyFD = n
    case "--write-mode":
        let v = value()
        guard let mode = IMDSSimulator.WriteMode(rawValue: v) else {
            fail("--write-mode: whole or split, not \(v.debugDescription)")
        }
        writeMode = mode
    case "--verbose", "-v": verbose = true
    case "--help", "-h":
        print(usage)
        exit(0)
    default: fail("unknown argument \(arg.debugDescription)\n\(usage)")
    }
}
guard let scenarioPath else { fail("--scenario is required\n\(usage)") }
guard let listen else { fail("--listen is required\n\(usage)") }
guard let (host, port) = IMDSSimulator.parseListenAddress(listen) else {
    fail("--listen: expected ADDR:PORT with a literal address, got \(listen.debugDescription)")
}

let scenario: Scenario
do {
    scenario = try Scenario.load(path: scenarioPath)
} catch {
    fail(error.description, code: 1)
}

// Block the signals we handle before any thread starts, so every thread inherits the mask and
// the main thread receives them synchronously with sigwait.
var signals = sigset_t()
sigemptyset(&signals)
for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, s) }
pthread_sigmask(SIG_BLOCK, &signals, nil)
signal(SIGPIPE, SIG_IGN)

let simulator = IMDSSimulator(scenario: scenario)
simulator.writeMode = writeMode
if verbose {
    simulator.log = { line in FileHandle.standardError.write(Data("eniroute-imds-sim: \(line)\n".utf8)) }
}
do {
    try simulator.start(host: host, port: port)
} catch {
    fail(error.description, code: 1)
}
let bound = simulator.listenAddress
FileHandle.standardOutput.write(Data("eniroute-imds-sim: listening on \(bound)\n".utf8))  // unbuffered
if let readyFile {
    let temporary = readyFile + ".tmp.\(getpid())"
    do {
        try Data("\(bound)\n".utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, readyFile) == 0 else {
            fail("cannot write \(readyFile): rename: \(Errno.current)", code: 1)
        }
    } catch {
        fail("cannot write \(readyFile): \(error.localizedDescription)", code: 1)
    }
}
if let readyFD {
    let line = Array("\(bound)\n".utf8)
    _ = line.withUnsafeBytes { write(readyFD, $0.baseAddress, $0.count) }
    close(readyFD)
}

while true {
    var received: Int32 = 0
    guard sigwait(&signals, &received) == 0 else { continue }
    if received == SIGHUP {
        do {
            simulator.replaceScenario(try Scenario.load(path: scenarioPath))
            FileHandle.standardError.write(Data("eniroute-imds-sim: reloaded \(scenarioPath)\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("eniroute-imds-sim: reload failed, keeping the old scenario: \(error)\n".utf8))
        }
        continue
    }
    simulator.stop()
    if let readyFile { unlink(readyFile) }
    exit(0)
}
