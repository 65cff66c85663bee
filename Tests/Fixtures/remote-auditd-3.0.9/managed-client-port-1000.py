import socket, struct, sys
port = int(sys.argv[1])
def frame(t, payload, seq):
    return struct.pack('<IBBIHI', 0xff0000fe, 0, 0, t, len(payload), seq) + payload
a = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
a.bind(('127.0.0.1', 1000)); a.connect(('127.0.0.1', port))
a.sendall(frame(0, b'type=USER msg=audit(1733300002.000:301): x=1', 2)); print(a.recv(16).hex())
a.sendall(frame(0, b'node=client3 type=USER msg=audit(1733300002.000:302): x=2', 3)); print(a.recv(16).hex())
b = socket.create_connection(('127.0.0.1', port)); print('eph', b.getsockname()[1], b.recv(16))
a.close(); b.close()
