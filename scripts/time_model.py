#!/usr/bin/env python3
"""Fit a time-to-mean model to `dme-experiment collective` runs on emulated links
(scripts/netem/sweep.sh) and predict, for 2 to 1024 ranks and 1 to 400 Gbit/s, each exchange's
time against the float32 ring allreduce (docs/time_model.md).

Model, per rank, all terms fitted or measured on the machine that ran the sweep:
  network   T_net = alpha * messages + bytes * max(8 / (eta * R), c)
            R the link rate, eta the share of it a collective achieves, c the per-byte cost
            when the CPU (the TCP stack) and not the link is the limit, alpha the cost of one
            message; bytes = the larger of a rank's sent and received bytes. Fitted on
            MPI_Allreduce's times alone (ring: 2(n - 1) messages, 2(n - 1)/n * 4d bytes), each
            point its fastest trial (what the link sustains: on an emulated link the float32
            allreduce sometimes runs ~1.5x slower, a mode of the TCP stack, not of the link; so
            the ring allreduce is predicted as fast as it can be), by a grid search minimising
            the squared log ratios of measured to predicted.
  compute   T_cmp = D * (rotate + encode + inverse) + decoded * decode, rates per coordinate
            (per measured d, each phase's least median over the link rates); decoded = n D
            (allgather, gather-bcast's root) or 2 D (the reduce-scatters).
  dme       T = T_cmp + T_net(its messages, its bytes): the phases run one after another.
  pipelined allgather (--pipeline P, runs whose pipeline_chunks > 1, rates of their own):
            the rank's core does, one after another, the chunks' messages (2 P (n - 1), each
            alpha), a cost per chunk gamma (fitted on these runs alone), A = D * encode +
            decoded * decode and the CPU share of the transfer (bytes * c):
            B = alpha * 2P(n - 1) + gamma * P + A + bytes * c, beside the link's transfer
            L = bytes * 8 / (eta * R), so T = D * (rotate + inverse) + max(B, L) + min(B, L) / P
            (the first chunk's compute and the last chunk's transfer do not overlap).
  streamed allgather (pipelined with buckets and rotation blocks: the options say bucket=B > 0
            and rotation-block=...): the rotations run chunk by chunk too, so they join B:
            T = max(B + D * (rotate + inverse), L) + min(B + D * (rotate + inverse), L) / P.
  gather-bcast with the compressed downlink (runs whose options say downlink=compressed):
            unpipelined, the uplink and then the downlink payload (b bits each way, the root
            decoding n - 1 uplink payloads and the downlink's, its own vector entering the mean
            exactly) one after another; pipelined, as the pipelined allgather with both
            directions at once.
Checks: every measured compressed time against its prediction (ratio printed, target within
1.3x). Then the predicted crossover link rate (below which the exchange beats the ring
allreduce) and the fastest exchange at 2, 16, 128 and 1024 ranks on 1, 10 and 100 Gbit/s.
"""

import math
import re

import numpy as np

import plot_common as pc

PIPELINED = "allgather pipelined"
STREAMED = "allgather streamed"
DOWNLINK = "gather-bcast compressed"
DOWNLINK_PIPELINED = "gather-bcast compressed pipelined"
EXCHANGES = ["allgather", "gather-bcast", "reduce-scatter", "reduce-scatter-int", PIPELINED,
             STREAMED, DOWNLINK, DOWNLINK_PIPELINED]
OVERLAPPED = (PIPELINED, STREAMED, DOWNLINK_PIPELINED)
CROSSOVER_GRID = np.logspace(8, 12, 400)  # link rates searched for crossovers: 0.1-1000 Gbit/s
STYLE = dict(pc.EXCHANGE_STYLE)
STYLE[PIPELINED] = dict(color="tab:red", marker="*")
STYLE[STREAMED] = dict(color="tab:olive", marker="X")
STYLE[DOWNLINK] = dict(color="tab:brown", marker="v")
STYLE[DOWNLINK_PIPELINED] = dict(color="tab:pink", marker="P")


def chunks(run):
    return int(run.params.get("pipeline_chunks", 1))


def variant(run):
    """The exchange as the model sees it: pipelined allgather and gather-bcast with the
    compressed downlink (pipelined or not) are their own."""
    ex = run.params["exchange"]
    options = str(run.params.get("options", ""))
    if ex == "allgather" and chunks(run) > 1:
        streamed = "rotation-block=" in options and not re.search(r"\bbucket=0\b", options)
        return STREAMED if streamed else PIPELINED
    if ex == "gather-bcast" and "downlink=compressed" in str(run.params.get("options", "")):
        return DOWNLINK_PIPELINED if chunks(run) > 1 else DOWNLINK
    return ex


def base(exchange):
    return {PIPELINED: "allgather", STREAMED: "allgather", DOWNLINK: "gather-bcast",
            DOWNLINK_PIPELINED: "gather-bcast"}.get(exchange, exchange)


def rate_bits(text):
    m = re.fullmatch(r"([0-9.]+)([kmg]?)bit", str(text).lower())
    if not m:
        raise SystemExit(f"time_model: link rate '{text}' is not like 1gbit (run under netem.sh)")
    return float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2)]


def median(v):
    return float(np.median(np.asarray(v, dtype=float)))


def messages(exchange, n, pipeline=1):
    """Sequential message steps of one estimate (Open MPI's ring-like large-message algorithms)."""
    if exchange in (PIPELINED, STREAMED):  # two collectives per chunk (sizes, payloads), in turn
        return 2 * pipeline * (n - 1) + 2
    if exchange == DOWNLINK_PIPELINED:  # sizes, payloads up; size and payload down
        return pipeline * (2 * (n - 1) + 2 * math.ceil(math.log2(n))) + 2
    if exchange == DOWNLINK:
        return (n - 1) + 2 * math.ceil(math.log2(n)) + 2
    steps = {"allgather": (n - 1), "gather-bcast": (n - 1) + math.ceil(math.log2(n)),
             "reduce-scatter": 2 * (n - 1), "reduce-scatter-int": 2 * (n - 1) + 3 * (n - 1),
             "ring allreduce": 2 * (n - 1)}
    return steps[exchange] + 2  # the size and status agreements


def wire_bits(exchange, n, b_payload, b=4):
    """Bits per coordinate on a rank's busiest direction (sent or received)."""
    if base(exchange) == "allgather":
        return (n - 1) * b_payload
    if exchange == "gather-bcast":  # the root: n - 1 payloads in, the float32 mean out (pipelined)
        return max((n - 1) * b_payload, 32.0 * min(n - 1, 2))
    if exchange == DOWNLINK:  # the root: n - 1 payloads in, then one payload out
        return (n - 1) * b_payload + b_payload * min(n - 1, 2)
    if exchange == DOWNLINK_PIPELINED:  # both directions at once
        return max(n - 1, min(n - 1, 2)) * b_payload
    if exchange == "reduce-scatter":
        return 2 * (n - 1) / n * b_payload
    if exchange == "reduce-scatter-int":
        return (n - 1) / n * (b_payload + b + 1 + math.ceil(math.log2(n)))
    return 2 * (n - 1) / n * 32.0  # ring allreduce


def decoded_coords(exchange, n):
    if exchange in (DOWNLINK, DOWNLINK_PIPELINED):
        return n  # the root: the n - 1 other ranks' uplink payloads, then the downlink's
    return n if base(exchange) in ("allgather", "gather-bcast") else 2


class Model:
    def __init__(self, runs):
        # Network: MPI_Allreduce rows, one per (file, d).
        rows, ys = [], []
        seen = set()
        for r in runs:
            key = (r.params["link"], int(r.params["d"]))
            if key in seen:
                continue
            seen.add(key)
            n, d, rate = int(r.params["ranks"]), int(r.params["d"]), rate_bits(r.params["link"])
            nbytes = 2 * (n - 1) / n * 4 * d
            rows.append((messages("ring allreduce", n), nbytes * 8 / rate, nbytes))
            ys.append(min(r.data["allreduce_ms"]) * 1e-3)  # the fastest trial
        msgs, wire, nb = (np.asarray(col) for col in zip(*rows))
        y = np.asarray(ys)
        # With one vector length and one rank count, every allreduce sends the same number of
        # messages, so their latency cannot be told from a lower bandwidth: the fit would put
        # milliseconds on each message and charge them to every chunk of the pipelined
        # exchanges. Then alpha stays 0 and a note says so.
        self.alpha_fitted = len({(m, b) for m, b in zip(msgs, nb)}) > 1
        alphas = np.concatenate([[0.0], np.logspace(-6, -2, 41)]) if self.alpha_fitted else [0.0]
        best = None
        for alpha in alphas:
            for eta in np.linspace(0.5, 1.0, 51):
                for c in np.concatenate([[0.0], np.logspace(-11, -8, 61)]):
                    pred = alpha * msgs + np.maximum(wire / eta, nb * c)
                    err = float(np.sum(np.log(y / pred) ** 2))
                    if best is None or err < best[0]:
                        best = (err, alpha, eta, c)
        _, self.alpha, self.eta, self.c = best
        # Compute rates per coordinate, per exchange and measured d: the least over the link
        # rates of each phase's median (a phase's compute does not depend on the link, and the
        # waits that a slow link adds to it, or the TCP stack's share of the core on a fast
        # one, only lengthen it); predictions use the measured d nearest to theirs (caches make
        # small d faster).
        self.by_d = {}
        for ex in EXCHANGES:
            for dd in sorted({int(r.params["d"]) for r in runs}):
                sel = [r for r in runs if variant(r) == ex and int(r.params["d"]) == dd]
                if not sel:
                    continue
                n = int(sel[0].params["ranks"])
                per = lambda key, scale: min(median(r.data[key]) for r in sel) * 1e-3 / scale
                self.by_d[(ex, dd)] = dict(
                    rotate=per("rotate_ms", dd) + per("inverse_ms", dd),
                    encode=per("encode_ms", dd),
                    decode=per("decode_ms", dd * decoded_coords(ex, n)),
                    chunks=int(median([chunks(r) for r in sel])),
                    b_payload=median([float(r.data["recv_bits_per_coord"][0]) for r in sel]) /
                    (1 if ex in (DOWNLINK, DOWNLINK_PIPELINED) else max(1, n - 1)))
        top = max(int(r.params["d"]) for r in runs)
        self.rates = {ex: self.by_d[(ex, top)] for ex in EXCHANGES if (ex, top) in self.by_d}
        ag = self.rates.get("allgather")
        self.b_payload = ag["b_payload"] if ag else 4.0
        # The overlapped exchanges pay per chunk, on the rank's core, what the per-message alpha
        # of large allreduce messages does not show (posting and polling two non-blocking
        # collectives, a payload's header and checksum): gamma, fitted on their own runs.
        self.gamma = 0.0
        over = [r for r in runs if variant(r) in OVERLAPPED]
        if over:
            best = None
            for gamma in np.linspace(0.0, 60e-6, 61):
                self.gamma = gamma
                err = sum(math.log(median(r.data["compressed_ms"]) * 1e-3 /
                                   self.predict_measured(r)) ** 2 for r in over)
                if best is None or err < best[0]:
                    best = (err, gamma)
            self.gamma = best[1]

    def compute(self, exchange, n, d):
        """(rotations, what overlaps the transfer when pipelined, the chunk count)."""
        sizes = sorted(dd for ex, dd in self.by_d if ex == exchange)
        nearest = min(sizes, key=lambda dd: abs(math.log2(dd) - math.log2(d)))
        r = self.by_d[(exchange, nearest)]
        D = 2 ** math.ceil(math.log2(d))
        return (D * r["rotate"], D * r["encode"] + D * decoded_coords(exchange, n) * r["decode"],
                r["chunks"])

    def total(self, exchange, n, d, nbytes, rate, cpu_limit=True):
        rotate, work, pipeline = self.compute(exchange, n, d)
        msgs = messages(exchange, n, pipeline)
        if exchange not in OVERLAPPED:
            return rotate + work + self.network(msgs, nbytes, rate, cpu_limit)
        # The chunks' message latencies, the compute between them and the CPU share of the
        # transfer run one after another on the rank's core, beside the link's transfer.
        busy = (self.alpha * msgs + self.gamma * pipeline + work +
                (nbytes * self.c if cpu_limit else 0.0))
        if exchange == STREAMED:  # the rotations stream with the chunks
            busy, rotate = busy + rotate, 0.0
        link = nbytes * 8 / (self.eta * rate)
        return rotate + max(busy, link) + min(busy, link) / pipeline

    def network(self, n_messages, nbytes, rate, cpu_limit=True):
        per_byte = 8 / (self.eta * rate)
        return self.alpha * n_messages + nbytes * (max(per_byte, self.c) if cpu_limit else per_byte)

    def predict(self, exchange, n, d, rate, cpu_limit=True):
        if exchange == "ring allreduce":
            nbytes = wire_bits(exchange, n, 32) * d / 8
            return self.network(messages(exchange, n), nbytes, rate, cpu_limit)
        D = 2 ** math.ceil(math.log2(d))
        nbytes = wire_bits(exchange, n, self.b_payload) * D / 8
        return self.total(exchange, n, d, nbytes, rate, cpu_limit)

    def predict_measured(self, run):
        """The prediction for a measured run, from its own wire bytes."""
        n, d, rate = int(run.params["ranks"]), int(run.params["d"]), rate_bits(run.params["link"])
        bits = max(float(run.data["recv_bits_per_coord"][0]),
                   float(run.data.get("sent_bits_per_coord", [0])[0]))
        ex = variant(run)
        if ex in (DOWNLINK, DOWNLINK_PIPELINED):  # recv_bits: the downlink payload's
            bits = wire_bits(ex, n, float(run.data["recv_bits_per_coord"][0]))
        return self.total(ex, n, d, bits * d / 8, rate)

    def crossover(self, exchange, n, d, cpu_limit):
        """The largest link rate (bit/s) at which the exchange beats the ring allreduce, or None."""
        wins = [g for g in CROSSOVER_GRID if self.predict(exchange, n, d, g, cpu_limit) <
                self.predict("ring allreduce", n, d, g, cpu_limit)]
        return max(wins) if wins else None


def main():
    p = pc.parser(__doc__.split("\n")[0], "time_model.png", many=True)
    p.add_argument("--log2d", type=int, default=24, help="vector length of the predictions")
    args = p.parse_args()
    runs = [r for path in args.inputs for r in pc.load_runs(path, "collective_", args.tag)]
    runs = [r for r in runs if "link" in r.params]
    if not runs:
        raise SystemExit("time_model: no runs with a 'link' attribute (run scripts/netem/sweep.sh)")
    m = Model(runs)
    print(f"network fit (MPI_Allreduce): alpha = {m.alpha * 1e6:.1f} us per message, "
          f"eta = {m.eta:.3f} of the link rate, CPU limit c = {m.c * 1e9:.3f} ns per byte "
          f"({8 / m.c / 1e9 if m.c else float('inf'):.1f} Gbit/s)")
    if not m.alpha_fitted:
        print("note: every MPI_Allreduce run sent the same messages (one vector length, one rank "
              "count), so the per-message latency is not identifiable and alpha is set to 0; "
              "sweep two lengths (LOG2D=20,24) to fit it")
    if any(variant(r) in OVERLAPPED for r in runs):
        print(f"per-chunk cost of the overlapped exchanges (fitted on their runs): gamma = "
              f"{m.gamma * 1e6:.0f} us")
    for ex, r in m.rates.items():
        print(f"compute {ex}: {(r['rotate'] + r['encode']) * 1e9:.2f} ns per coordinate (rotate "
              f"{r['rotate'] * 1e9:.2f} + encode {r['encode'] * 1e9:.2f}), decode "
              f"{r['decode'] * 1e9:.2f} ns per decoded coordinate" +
              (f"; {r['chunks']} chunks" if ex in OVERLAPPED else ""))
    print("\nmeasured against predicted (compressed mean; target within 1.3x):")
    ratios, ar_ratios = [], []
    points = []
    for r in sorted(runs, key=lambda r: (rate_bits(r.params["link"]), int(r.params["d"]))):
        meas = median(r.data["compressed_ms"]) * 1e-3
        pred = m.predict_measured(r)
        ar_meas = min(r.data["allreduce_ms"]) * 1e-3  # what the network fit saw
        n, d = int(r.params["ranks"]), int(r.params["d"])
        ar_pred = m.predict("ring allreduce", n, d, rate_bits(r.params["link"]))
        ratios.append(meas / pred)
        ar_ratios.append(ar_meas / ar_pred)
        points.append((variant(r), meas, pred))
        print(f"  {r.params['link']:>9} d=2^{int(math.log2(d))} {variant(r):>19}: "
              f"measured {meas * 1e3:8.1f} ms, predicted {pred * 1e3:8.1f} ms "
              f"({meas / pred:.2f}x); allreduce {ar_meas * 1e3:8.1f} / {ar_pred * 1e3:8.1f} ms "
              f"(median {median(r.data['allreduce_ms']):.1f})")
    for what, rs in (("compressed mean", ratios),
                     ("MPI_Allreduce's fastest trials (the fitted data)", ar_ratios)):
        worst = max(max(x, 1 / x) for x in rs)
        print(f"worst ratio measured/predicted, {what}: {worst:.2f}x "
              f"({'within' if worst <= 1.3 else 'NOT within'} 1.3x)")

    d = 2 ** args.log2d
    for cpu_limit in (True, False):
        regime = ("as on this machine (TCP, CPU limit c)" if cpu_limit else
                  "link-limited (c = 0: a network whose transfers cost the CPU nothing, e.g. RDMA)")
        print(f"\npredicted at d = 2^{args.log2d} (s = 16), {regime}: time in ms, the fastest "
              "exchange and its speedup over the float32 ring allreduce")
        print(f"{'ranks':>6} {'link':>9} " + " ".join(f"{e:>19}" for e in EXCHANGES) +
              f" {'ring allreduce':>15}  fastest")
        for n in (2, 16, 128, 1024):
            for g in (1, 10, 100):
                times = {e: m.predict(e, n, d, g * 1e9, cpu_limit) for e in EXCHANGES
                         if e in m.rates}
                ar = m.predict("ring allreduce", n, d, g * 1e9, cpu_limit)
                best = min(times, key=times.get)
                pick = best if times[best] < ar else "ring allreduce (float32)"
                print(f"{n:>6} {g:>6}Gb/s " +
                      " ".join(f"{times.get(e, float('nan')) * 1e3:19.1f}" for e in EXCHANGES) +
                      f" {ar * 1e3:15.1f}  {pick} ({ar / times[best]:.2f}x)")
        print(f"predicted crossover link rate (dme faster below it), Gbit/s, {regime}:")
        for n in (2, 16, 128, 1024):
            cells = []
            for e in EXCHANGES:
                if e not in m.rates:
                    continue
                c = m.crossover(e, n, d, cpu_limit)
                if c is None:
                    cells.append(f"{e} never")
                elif c >= CROSSOVER_GRID[-1]:  # faster at every rate of the grid
                    cells.append(f"{e} above {CROSSOVER_GRID[-1] / 1e9:.0f} (the allreduce's "
                                 "CPU limit c decides: sweep a faster link to fit it)")
                else:
                    cells.append(f"{e} {c / 1e9:.1f}")
            print(f"  n = {n:>4}: " + ", ".join(cells))

    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    for ex in EXCHANGES:
        pts = [(me, pr) for e, me, pr in points if e == ex]
        if pts:
            ax1.scatter([p[1] * 1e3 for p in pts], [p[0] * 1e3 for p in pts], label=ex,
                        **STYLE[ex])
    lo = min(min(p[1], p[2]) for p in points) * 1e3 / 1.5
    hi = max(max(p[1], p[2]) for p in points) * 1e3 * 1.5
    xs = np.array([lo, hi])
    ax1.plot(xs, xs, "k-", lw=0.8)
    ax1.fill_between(xs, xs / 1.3, xs * 1.3, color="gray", alpha=0.15, label="within 1.3x")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("predicted time of the compressed mean (ms)")
    ax1.set_ylabel("measured (ms)")
    ax1.set_title("the model against the sweep", fontsize=9)
    ax1.legend(fontsize=7)
    rates = np.logspace(9, math.log10(400e9), 60)
    for n, ls in ((2, "-"), (1024, "--")):
        ar = np.array([m.predict("ring allreduce", n, d, g, False) for g in rates])
        for ex in EXCHANGES:
            if ex not in m.rates:
                continue
            t = np.array([m.predict(ex, n, d, g, False) for g in rates])
            ax2.plot(rates / 1e9, ar / t, linestyle=ls, color=STYLE[ex]["color"],
                     label=f"{ex}, n = {n}")
    ax2.axhline(1, color="black", lw=0.8)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("link rate (Gbit/s)")
    ax2.set_ylabel("predicted speedup over the float32 ring allreduce")
    ax2.set_title(f"d = 2^{args.log2d}, link-limited: above 1, dme is faster", fontsize=9)
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=6, ncol=2)
    fig.suptitle(args.title or "Time to the mean: model fitted on emulated links")
    pc.save(fig, pc.output_path(args, "time_model.png"), args.dpi)


if __name__ == "__main__":
    main()
