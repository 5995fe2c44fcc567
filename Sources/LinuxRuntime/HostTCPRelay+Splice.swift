import CLinuxShims
import Glibc
import NetCore
import TCP

/// Splicing a relayed connection: the guest's bytes go from the stack's receive buffer
/// straight into the host socket (`send(2)` from the buffer in place), the host's from the
/// socket straight into the stack's send buffer (`recv(2)` into its free space), each only as
/// far as the other side has room, so that a full side stops the reading of the other (the
/// guest's window closes, or the kernel's) and the relay holds no buffer of its own. A FIN
/// from the guest shuts the host socket down for writing (`shutdown(SHUT_WR)`), the host's EOF
/// becomes a FIN to the guest, and the other direction keeps flowing (RFC 9293 §3.6
/// half-close); a reset either side resets the other; the flow is freed when both have
/// finished.
extension HostTCPRelay {
  /// Guest to host, until the guest's FIN or a reset.
  func spliceGuestToHost(_ id: UInt64) async {
    while let flow = flows[id], let connection = flow.connection {
      if let error = runtime.stack.tcp.error(connection),
        !runtime.stack.tcp.isAtEndOfStream(connection)
      {
        guestFailed(id, error: error)
        return
      }
      if runtime.stack.tcp.readableBytes(connection) > 0 {
        var failure: Int32 = 0
        let taken: Int
        do throws(TCPError) {
          taken = try runtime.stack.tcp.consume(connection, now: MonotonicClock.now()) { bytes in
            let sent = bytes.withUnsafeBufferPointer {
              Glibc.send(flow.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
              failure = errno
              return 0
            }
            return sent
          }
        } catch {
          guestFailed(id, error: error)
          return
        }
        flows[id]?.bytesGuestToHost += UInt64(taken)
        if taken > 0 {
          flows[id]?.lastActive = MonotonicClock.now()
          continue
        }
        if failure == EAGAIN || failure == EWOULDBLOCK || failure == EINTR || failure == 0 {
          await sockets.writers.wait(flow.descriptor)
          continue
        }
        hostFailed(id, errno: failure)
        return
      }
      if runtime.stack.tcp.isAtEndOfStream(connection) {
        Glibc.shutdown(flow.descriptor, Int32(SHUT_WR))
        flows[id]?.guestFinished = true
        finishDirection(id)
        return
      }
      guard let state = runtime.stack.tcp.state(connection), state != .closed else {
        guestFailed(id, error: .aborted)
        return
      }
      await runtime.readers.wait(connection)
    }
  }

  /// Host to guest: waits for the guest's handshake, then moves the host's bytes until its
  /// EOF or a reset.
  func spliceHostToGuest(_ id: UInt64) async {
    while let flow = flows[id], let connection = flow.connection {
      if let error = runtime.stack.tcp.error(connection) {
        guestFailed(id, error: error)
        return
      }
      guard let state = runtime.stack.tcp.state(connection), state != .closed else {
        guestFailed(id, error: .aborted)
        return
      }
      if state.isSynchronized {
        if flow.state == .handshaking { flows[id]?.state = .open }
        break
      }
      await runtime.writers.wait(connection)
    }
    while let flow = flows[id], let connection = flow.connection {
      if let error = runtime.stack.tcp.error(connection) {
        guestFailed(id, error: error)
        return
      }
      if runtime.stack.tcp.writableBytes(connection) == 0 {
        await runtime.writers.wait(connection)
        continue
      }
      // One recv(2) straight into the send buffer's free space: the host's bytes are copied
      // once more by the stack, into their segments.
      var received = -1
      var failure: Int32 = 0
      let written: Int
      do throws(TCPError) {
        written = try runtime.stack.tcp.fill(connection, upTo: HostTCPRelay.chunkSize) { space in
          received = recv(flow.descriptor, space.baseAddress, space.count, 0)
          if received < 0 { failure = errno }
          return max(received, 0)
        }
      } catch {
        guestFailed(id, error: error)
        return
      }
      if written > 0 {
        flows[id]?.bytesHostToGuest += UInt64(written)
        flows[id]?.lastActive = MonotonicClock.now()
        continue
      }
      if received < 0 && failure == 0 {
        // No space was offered (the memory budget refused it): wait for room.
        await runtime.writers.wait(connection)
        continue
      }
      if received == 0 {
        do throws(TCPError) {
          try runtime.stack.tcp.shutdownWrite(connection)
        } catch {
          guestFailed(id, error: error)
          return
        }
        flows[id]?.hostFinished = true
        finishDirection(id)
        return
      }
      if failure == EAGAIN || failure == EWOULDBLOCK || failure == EINTR {
        await sockets.readers.wait(flow.descriptor)
        continue
      }
      hostFailed(id, errno: failure)
      return
    }
  }

  /// One direction reached its end: the flow's state says which; with both, the flow ends.
  private func finishDirection(_ id: UInt64) {
    guard let flow = flows[id] else { return }
    if flow.guestFinished && flow.hostFinished {
      counters.closed += 1
      finish(id, resetGuest: false, resetHost: false)
    } else {
      flows[id]?.state = flow.guestFinished ? .guestFinished : .hostFinished
      halfClosed(id)
    }
  }

  /// The guest's side failed (its RST, or the stack gave up on it): the host socket is reset.
  private func guestFailed(_ id: UInt64, error: TCPError) {
    guard flows[id] != nil else { return }
    counters.resetByGuest += 1
    if error == .timedOut { counters.guestTimeouts += 1 }
    logger.debug("relay: tcp flow \(id): guest side ended: \(error)")
    finish(id, resetGuest: true, resetHost: true)
  }

  /// The host socket failed (reset, or an error from the kernel): the guest gets a RST.
  private func hostFailed(_ id: UInt64, errno code: Int32) {
    guard flows[id] != nil else { return }
    counters.resetByHost += 1
    if code == ETIMEDOUT { counters.hostTimeouts += 1 }
    logger.debug("relay: tcp flow \(id): host side ended: \(String(cString: strerror(code)))")
    finish(id, resetGuest: true, resetHost: true)
  }
}
