// swift-tools-version: 6.2
// An example of using netstack as a library, as another package would: a "hello" service of
// its own, written as a sans-IO `ConnectionHandler`, served by the Swift stack on a Linux TAP
// device. It depends on the netstack package by path (another package would use its URL).
import PackageDescription

let package = Package(
  name: "TAPService",
  dependencies: [
    .package(name: "netstack", path: "../..")
  ],
  targets: [
    .executableTarget(
      name: "TAPHello",
      dependencies: [
        .product(name: "NetstackProtocols", package: "netstack"),
        .product(name: "NetStack", package: "netstack"),
        .product(name: "Applications", package: "netstack"),
        .product(name: "NetworkAPI", package: "netstack"),
        .product(name: "NetstackLinux", package: "netstack"),
      ]
    )
  ]
)
