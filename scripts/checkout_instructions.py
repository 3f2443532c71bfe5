"""CPU instructions the app spends per checkout, counted by valgrind (callgrind).

    .venv/bin/python scripts/checkout_instructions.py [--checkouts 100] [--warmup 20]

Throughput on a shared 2-core machine moves by up to a quarter from run to run; an instruction
count does not (±0.5 % here), so it is how a change to the checkout path is compared
with another commit's (run this script in each). It prepares a database like
``bench_checkout.py``'s (its own, dropped at the end), then runs the app in one process
under callgrind: ``--warmup`` checkouts first, uncounted, then ``--checkouts`` counted
ones through the Flask test client, each a different customer's 1-3 line cart. Only the
app's process is counted (not PostgreSQL's), with a fixed hash seed. Needs valgrind.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import bench_checkout  # noqa: E402


def checkout_all(client, buyers: list[list]) -> None:
    for token, address_id in buyers:
        response = client.post(
            "/api/orders",
            json={"address_id": address_id, "payment_method": "MPESA"},
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code != 201:
            raise SystemExit(f"checkout answered {response.status_code}: {response.get_data()}")


def run_counted(buyers_file: str, warmup: int) -> None:
    """The process valgrind runs: counting is switched on around the measured checkouts."""
    from app import create_app

    buyers = json.loads(Path(buyers_file).read_text())
    client = create_app("production").test_client()
    gc.freeze()  # as run.py does in the server
    checkout_all(client, buyers[:warmup])
    _instrument("on")
    checkout_all(client, buyers[warmup:])
    _instrument("off")


def _instrument(state: str) -> None:
    command = ["callgrind_control", f"--instr={state}", str(os.getpid())]
    subprocess.run(command, check=True, capture_output=True)


def count(args) -> int:
    """Prepare the carts, run the counted process under callgrind, return its total."""
    env = bench_checkout.server_env(f"{args.server}/{args.database}")
    carts = args.warmup + args.checkouts
    shape = argparse.Namespace(buyers=-(-carts // 10), rounds=10)
    buyers = bench_checkout.prepare(env, shape)["distinct"][:carts]
    with tempfile.TemporaryDirectory() as workdir:
        buyers_file = Path(workdir, "buyers.json")
        buyers_file.write_text(json.dumps([[b.token, b.address_id] for b in buyers]))
        counts = Path(workdir, "callgrind.out")
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={counts}",
            sys.executable,
            __file__,
            f"--counted={buyers_file}",
            f"--warmup={args.warmup}",
        ]
        try:
            run = subprocess.run(command, env={**env, "PYTHONHASHSEED": "0"}, capture_output=True)
        except FileNotFoundError:
            raise SystemExit("valgrind is not installed") from None
        if run.returncode != 0:
            raise SystemExit(f"the counted run failed:\n{run.stderr.decode()[-2000:]}")
        lines = counts.read_text().splitlines()
    return int(next(line for line in lines if line.startswith("totals:")).split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="qg_checkout_instructions")
    parser.add_argument("--counted", help=argparse.SUPPRESS)  # the process under valgrind
    args = parser.parse_args()
    if args.counted:
        run_counted(args.counted, args.warmup)
        return
    if not 1 <= args.checkouts <= 1000 or not 0 <= args.warmup <= 100:
        parser.error("--checkouts must be 1..1000 and --warmup 0..100")

    bench_checkout.recreate_database(args.server, args.database)
    try:
        total = count(args)
    finally:
        bench_checkout.recreate_database(args.server, args.database, drop_only=True)
    per_checkout = total / args.checkouts
    print(f"{per_checkout / 1e6:.2f} M instructions per checkout ({args.checkouts} counted)")


if __name__ == "__main__":
    main()
