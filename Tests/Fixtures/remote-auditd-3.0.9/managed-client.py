import socket, struct, sys
port = int(sys.argv[1])
def frame(t, payload, seq):
    return struct.pack('<IBBIHI', 0xff0000fe, 0, 0, t, len(payload), seq) + payload
def recvn(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c: break
        b += c
    return b
a = socket.create_connection(('127.0.0.1', port))
a.sendall(frame(0, b'type=USER msg=audit(1733300001.000:201): pid=3 uid=0 auid=0 ses=1 msg=\'op=framed res=success\'', 5))
print('ack', recvn(a, 16).hex())
a.sendall(frame(1, b'', 6))
print('heartbeat-ack', recvn(a, 16).hex())
a.sendall(frame(0, b'node=client2 type=USER msg=audit(1733300001.000:202): x=1\n', 7))
print('ack-newline', recvn(a, 16).hex())
b = socket.create_connection(('127.0.0.1', port))
print('second', b.recv(16))
print('ports', a.getsockname()[1], b.getsockname()[1])
a.close(); b.close()
