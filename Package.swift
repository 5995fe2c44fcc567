// swift-tools-version: 6.2
// netstack: a modular user-space TCP/IP stack in Swift.
//
// The protocol modules (NetCore, Ethernet, ARP, IPv4, IPv6, UDP, TCP, DHCP, NetStack) and the
// Netfront driver use the Swift standard library only; `scripts/embedded-check` builds them as
// Embedded Swift. Everything that touches the operating system lives in Drivers/ (TAP, Unix
// socket), LinuxRuntime and netstackd.
import PackageDescription

/// Settings shared by every Swift target: views over received bytes are `~Escapable` and need
/// lifetime annotations. Nothing uses Regex, so no module imports `_StringProcessing`
/// implicitly (netstackd loads neither it nor `_RegexParser`).
let swiftSettings: [SwiftSetting] = [
  .enableExperimentalFeature("Lifetimes"),
  .unsafeFlags(["-Xfrontend", "-disable-implicit-string-processing-module-import"]),
]

let package = Package(
  name: "netstack",
  products: [
    .executable(name: "netstackd", targets: ["netstackd"]),
    // The libraries another package builds a stack from (Examples/TAPService uses them as an
    // outside package would). Each module has a DocC catalog; scripts/docs builds them.
    //
    // The protocol layers, sans-IO and standard library only (they build as Embedded Swift).
    .library(
      name: "NetstackProtocols",
      targets: [
        "NetCore", "Ethernet", "ARP", "IPv4", "IPv4OverEthernet", "IPv6", "UDP", "TCP", "DHCP",
        "DNS",
      ]),
    // The stack assembled on one Ethernet device (DirectStack), and the host that runs
    // services' handlers on it.
    .library(name: "NetStack", targets: ["NetStack"]),
    // The services' protocols as sans-IO connection handlers, and the ConnectionHandler
    // protocol a service of one's own conforms to.
    .library(name: "Applications", targets: ["Applications"]),
    // The application's view of a stack: async TCP and UDP handles.
    .library(name: "NetworkAPI", targets: ["NetworkAPI"]),
    // Running a stack on Linux: the event loop, the direct stack's runtime and its
    // NetworkAPI face, the host-sockets backend, pcap, and the Linux drivers (TAP, Unix-socket
    // frame link, netfront's platform in a Linux guest).
    .library(
      name: "NetstackLinux", targets: ["LinuxRuntime", "TAP", "UnixSocket", "XenLinuxPlatform"]),
    // The Xen netfront driver over a small platform protocol (standard library only).
    .library(name: "Netfront", targets: ["Netfront"]),
  ],
  targets: [
    // Protocol layers: standard library only.
    .target(name: "NetCore", swiftSettings: swiftSettings),
    .target(name: "Ethernet", dependencies: ["NetCore"], swiftSettings: swiftSettings),
    .target(name: "ARP", dependencies: ["NetCore", "Ethernet"], swiftSettings: swiftSettings),
    // The Ethernet link IPv4 runs over: framing and padding, ARP resolution, the device's
    // queue. Between Ethernet/ARP and the IPv4 layer, which is generic over NetCore's IPv4Link.
    .target(
      name: "IPv4OverEthernet", dependencies: ["NetCore", "Ethernet", "ARP"],
      swiftSettings: swiftSettings),
    .target(name: "IPv4", dependencies: ["NetCore"], swiftSettings: swiftSettings),
    // The transports, generic over NetCore's TransportNetwork: one TCP and one UDP over IPv4
    // and IPv6.
    .target(name: "UDP", dependencies: ["NetCore"], swiftSettings: swiftSettings),
    .target(name: "TCP", dependencies: ["NetCore"], swiftSettings: swiftSettings),
    .target(name: "DHCP", dependencies: ["NetCore"], swiftSettings: swiftSettings),
    // DNS for the guest network: messages, resolv.conf, the sans-IO forwarder.
    .target(name: "DNS", dependencies: ["NetCore"], swiftSettings: swiftSettings),
    // IPv6 with ICMPv6, neighbour discovery, address autoconfiguration and MLDv2.
    .target(name: "IPv6", dependencies: ["NetCore"], swiftSettings: swiftSettings),
    // The services' protocols as sans-IO handlers (HTTP, echo, discard, chargen), written once
    // for the stack's loop, host sockets and the unikernel: standard library only.
    .target(name: "Applications", dependencies: ["NetCore"], swiftSettings: swiftSettings),
    .target(
      name: "NetStack",
      dependencies: [
        "NetCore", "Ethernet", "ARP", "IPv4OverEthernet", "IPv4", "IPv6", "UDP", "TCP", "DHCP",
        "Applications",
      ],
      swiftSettings: swiftSettings),

    // The application API and the services written once against it.
    .target(name: "NetworkAPI", dependencies: ["NetCore"], swiftSettings: swiftSettings),
    .target(
      name: "Services", dependencies: ["NetCore", "NetworkAPI", "Applications"],
      swiftSettings: swiftSettings),

    // Linux-only pieces.
    .target(name: "CLinuxShims", path: "Sources/CLinuxShims"),
    .target(
      name: "TAP", dependencies: ["NetCore", "CLinuxShims"], path: "Drivers/TAP",
      swiftSettings: swiftSettings),
    // The Unix-socket link's framing (QEMU -netdev stream): standard library only, fuzzed.
    .target(
      name: "UnixSocketFraming", path: "Drivers/UnixSocketFraming", swiftSettings: swiftSettings),
    .target(
      name: "UnixSocket", dependencies: ["NetCore", "CLinuxShims", "UnixSocketFraming"],
      path: "Drivers/UnixSocket", swiftSettings: swiftSettings),
    // The daemon's control-socket requests: standard library only, fuzzed.
    .target(name: "ControlProtocol", dependencies: ["NetCore"], swiftSettings: swiftSettings),
    // The Xen netfront driver: standard library only, so that it links into a unikernel.
    .target(
      name: "Netfront", dependencies: ["NetCore"], path: "Drivers/Netfront",
      swiftSettings: swiftSettings),
    // Netfront's platform in a guest with no operating system (the unikernel): standard library
    // only, over the hypercalls its start-of-day code provides.
    .target(
      name: "XenBareMetal", dependencies: ["NetCore", "Netfront"], path: "Unikernel/XenBareMetal",
      swiftSettings: swiftSettings),
    // The unikernel's program, generic over the guest architecture (standard library only):
    // a SwiftPM target too, so that its services and settings have unit tests.
    .target(
      name: "UnikernelMain",
      dependencies: [
        "NetCore", "IPv6", "UDP", "TCP", "DHCP", "NetStack", "Netfront", "XenBareMetal",
        "Applications",
      ],
      path: "Unikernel/Main", swiftSettings: swiftSettings),
    // Netfront in a Linux guest's user space: /dev/xen/{gntalloc,evtchn,xenbus}.
    .target(name: "CXenShims", path: "Sources/CXenShims"),
    .target(
      name: "XenLinuxPlatform", dependencies: ["NetCore", "Netfront", "CXenShims"],
      swiftSettings: swiftSettings),
    .target(
      name: "LinuxRuntime",
      dependencies: [
        "NetCore", "NetStack", "TCP", "UDP", "DHCP", "NetworkAPI", "Applications", "CLinuxShims",
        "DNS", "IPv4",
      ],
      swiftSettings: swiftSettings),
    .executableTarget(
      name: "netstackd",
      dependencies: [
        "NetCore", "ARP", "IPv6", "TCP", "NetStack", "TAP", "LinuxRuntime", "CLinuxShims",
        "NetworkAPI", "Services", "UnixSocket", "DHCP", "Applications", "Netfront",
        "XenLinuxPlatform", "ControlProtocol",
      ],
      swiftSettings: swiftSettings),

    // Resolves names through HostDNSUpstream and a resolv.conf it is given (e2e dns-upstream).
    .executableTarget(
      name: "dns-upstream-check", dependencies: ["NetCore", "DNS", "LinuxRuntime", "CLinuxShims"],
      swiftSettings: swiftSettings),

    .executableTarget(
      name: "netstack-sim",
      dependencies: ["NetCore", "IPv4", "TCP", "NetStack", "NetSimulation"],
      swiftSettings: swiftSettings),

    // Test support: an in-memory link, a manual clock, seeded impairments.
    .target(
      name: "NetSimulation", dependencies: ["NetCore", "TCP", "NetStack"],
      swiftSettings: swiftSettings),
    // Test support for netfront: a simulated hypervisor and netback on the same shared pages.
    .target(
      name: "NetfrontSimulation", dependencies: ["NetCore", "NetStack", "Netfront"],
      swiftSettings: swiftSettings),
    // The Xen public headers compiled in (libxen-dev), for the netfront tests to compare with.
    .target(name: "CXenABI", path: "Tests/CXenABI"),
    // ARP frames captured from Linux, for the ARP and the link tests.
    .target(
      name: "ARPCaptures", dependencies: ["NetCore"], path: "Tests/ARPCaptures",
      swiftSettings: swiftSettings),

    .testTarget(name: "NetCoreTests", dependencies: ["NetCore"], swiftSettings: swiftSettings),
    .testTarget(
      name: "ApplicationsTests", dependencies: ["NetCore", "Applications"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "EthernetTests", dependencies: ["NetCore", "Ethernet"], swiftSettings: swiftSettings),
    .testTarget(
      name: "ARPTests", dependencies: ["NetCore", "Ethernet", "ARP", "ARPCaptures"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "IPv4OverEthernetTests",
      dependencies: ["NetCore", "Ethernet", "ARP", "IPv4OverEthernet", "ARPCaptures"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "IPv4Tests", dependencies: ["NetCore", "IPv4"], swiftSettings: swiftSettings),
    .testTarget(
      name: "IPv6Tests", dependencies: ["NetCore", "IPv6"], swiftSettings: swiftSettings),
    .testTarget(
      name: "UDPTests", dependencies: ["NetCore", "IPv4", "UDP"], swiftSettings: swiftSettings),
    .testTarget(
      name: "TCPTests", dependencies: ["NetCore", "IPv4", "TCP"], swiftSettings: swiftSettings),
    // One TCP and one UDP over both network layers: two dual-stack hosts (IPv4Layer and
    // IPv6Layer in a DualStackNetwork) on an in-memory wire with seeded impairments.
    .testTarget(
      name: "DualStackTests",
      dependencies: ["NetCore", "IPv4", "IPv6", "TCP", "UDP", "NetStack"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "DHCPTests", dependencies: ["NetCore", "DHCP"], swiftSettings: swiftSettings),
    .testTarget(name: "DNSTests", dependencies: ["NetCore", "DNS"], swiftSettings: swiftSettings),
    .testTarget(
      name: "NetStackTests",
      dependencies: [
        "NetCore", "Ethernet", "ARP", "IPv4", "IPv6", "UDP", "TCP", "DHCP", "Applications",
        "NetStack", "NetSimulation",
      ],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "NetfrontTests",
      dependencies: [
        "NetCore", "IPv4", "TCP", "NetStack", "Netfront", "NetfrontSimulation", "CXenABI",
        "CXenShims", "XenLinuxPlatform", "XenBareMetal",
      ],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "ServicesTests",
      dependencies: ["NetCore", "NetworkAPI", "Services", "Applications"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "UnixSocketTests", dependencies: ["NetCore", "UnixSocket", "UnixSocketFraming"],
      swiftSettings: swiftSettings),
    .testTarget(
      name: "ControlProtocolTests", dependencies: ["ControlProtocol", "NetCore"],
      swiftSettings: swiftSettings),
    // The daemon's own pieces: the option parser, the --http-root file source.
    .testTarget(
      name: "NetstackdTests",
      dependencies: [
        "netstackd", "CLinuxShims", "Applications", "IPv6", "LinuxRuntime", "NetCore",
        "NetStack", "NetworkAPI", "TCP", "ControlProtocol",
      ],
      swiftSettings: swiftSettings),
    // The Linux runtime: the event loop, waiters, the pcap file, the socket backend's service
    // host over real loopback sockets.
    .testTarget(
      name: "LinuxRuntimeTests",
      dependencies: [
        "LinuxRuntime", "NetCore", "NetStack", "Applications", "CLinuxShims", "DNS", "NetworkAPI",
      ],
      swiftSettings: swiftSettings),
    // The TAP driver's framing: the virtio-net header.
    .testTarget(name: "TAPTests", dependencies: ["TAP", "NetCore"], swiftSettings: swiftSettings),
    .testTarget(
      name: "UnikernelTests",
      dependencies: [
        "NetCore", "TCP", "UDP", "NetStack", "NetSimulation", "Applications", "UnikernelMain",
      ],
      swiftSettings: swiftSettings),
  ]
)
