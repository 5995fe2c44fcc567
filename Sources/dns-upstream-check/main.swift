// dns-upstream-check: resolves names through HostDNSUpstream and a resolv.conf it is given
// (CheckArguments.usage). Used by Tests/e2e/test-dns-upstream.sh inside network namespaces.
import Glibc
import LinuxRuntime

let commandLine = Array(CommandLine.arguments.dropFirst())
if commandLine.contains("-h") || commandLine.contains("--help") {
  print(CheckArguments.usage)
  exit(0)
}
do {
  let arguments = try CheckArguments(commandLine)
  let run = try CheckRun(arguments: arguments)
  exit(try run.run())
} catch let error as CheckUsageError {
  writeStandardError("dns-upstream-check: \(error.message)\n\(CheckArguments.usage)\n")
  exit(2)
} catch {
  writeStandardError("dns-upstream-check: \(error)\n")
  exit(1)
}
