import CLinuxShims

/// The CPUs this process may run on (`sched_getaffinity(2)`: what `taskset`, a cgroup's
/// cpuset or a one-vCPU VM leaves it), for choices that only pay with a second CPU, such as
/// busy polling, which waits for work that another CPU produces.
public enum UsableProcessors {
  /// How many CPUs the calling thread may run on; 1 when the kernel does not say.
  public static var count: Int { Int(netstack_usable_cpus()) }
}
