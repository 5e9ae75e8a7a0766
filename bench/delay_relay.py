"""A TCP relay that adds a fixed latency to each direction (pipelined: latency, not a bandwidth limit).

    python bench/delay_relay.py LISTEN_PORT TARGET_ADDR TARGET_PORT TO_SERVER_MS TO_CLIENT_MS

Run by bench/prod_latency_bench.py inside a lab container's network namespace (nsenter -n), with an
iptables REDIRECT of incoming port 22 to it: the stand-in for `tc netem delay` where the kernel has no
netem (CONFIG_NET_SCH_NETEM unset, as on this machine)."""
import asyncio
import sys
import time


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


async def main(port, addr, target_port, to_server, to_client):
    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(addr, target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pump(client_reader, server_writer, to_server), pump(server_reader, client_writer, to_client))

    server = await asyncio.start_server(handle, "0.0.0.0", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    p, a, tp, ts, tc = sys.argv[1:6]
    asyncio.run(main(int(p), a, int(tp), int(ts) / 1000, int(tc) / 1000))
