"""Run inside a lab node (`python3 - PORT` on stdin): its engine's socket served on TCP
PORT, so a test reaches that manager as a user reaches theirs, by DOCKER_HOST. Only the
lab's own bridge carries it; the node goes with the lab."""
import socket
import sys
import threading


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main(port):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", port))
    server.listen(16)
    while True:
        client, _ = server.accept()
        engine = socket.socket(socket.AF_UNIX)
        engine.connect("/var/run/docker.sock")
        for a, b in ((client, engine), (engine, client)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()


if __name__ == "__main__":
    main(int(sys.argv[1]))
