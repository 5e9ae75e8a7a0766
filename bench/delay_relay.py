"""A TCP relay that adds a fixed latency to each direction (pipelined: latency, not a bandwidth limit).

    python bench/delay_relay.py LISTEN_PORT TARGET TO_SERVER_MS TO_CLIENT_MS

TARGET is ADDR:PORT, or `original` for the destination an iptables DNAT rewrote (SO_ORIGINAL_DST).
It listens on 127.0.0.1 only and marks its own upstream connections (SO_MARK 0x22) so the DNAT rule
that feeds it can leave them alone. Run by bench/prod_latency_bench.py inside a lab host's network
namespace (nsenter -n): the stand-in for `tc netem delay` where the kernel has no netem
(CONFIG_NET_SCH_NETEM unset, as on this machine)."""
import asyncio
import socket
import struct
import sys
import time

MARK = 0x22
SO_ORIGINAL_DST = 80


async def pump(reader, writer, delay):
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay, data))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((time.monotonic() + delay, None))
    try:
        await sender
    except (ConnectionError, OSError):
        pass


def original_destination(sock):
    raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    port, packed = struct.unpack_from("!2xH4s", raw)
    return socket.inet_ntoa(packed), port


async def main(port, target, to_server, to_client):
    loop = asyncio.get_running_loop()

    async def handle(client_reader, client_writer):
        where = (original_destination(client_writer.get_extra_info("socket")) if target == "original"
                 else (target.rsplit(":", 1)[0], int(target.rsplit(":", 1)[1])))
        up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        up.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, MARK)
        up.setblocking(False)
        try:
            await loop.sock_connect(up, where)
            server_reader, server_writer = await asyncio.open_connection(sock=up)
        except OSError:
            up.close()
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, server_writer, to_server), pump(server_reader, client_writer, to_client))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    p, t, ts, tc = sys.argv[1:5]
    asyncio.run(main(int(p), t, int(ts) / 1000, int(tc) / 1000))
