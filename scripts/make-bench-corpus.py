#!/usr/bin/env python3
"""Writes a synthetic English jsonl.zst of about SIZE_MB of raw text for the tokenization benchmark.

Usage: python3 scripts/make-bench-corpus.py OUT.jsonl.zst [SIZE_MB=1000]
Documents are 20-200 sentences drawn (seeded, so reproducible) from the demo Brown corpus, so the text has
real English statistics; compression uses the zstd command line tool at level 3, as DCLM's shards do.
"""
import json, random, re, subprocess, sys, os

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out, size_mb = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000
raw = subprocess.run(["zstd", "-dc", os.path.join(root, "data", "demo", "brown.jsonl.zst")], capture_output=True, check=True).stdout
sentences = [s for line in raw.decode().splitlines() for s in re.split(r"(?<=[.?!]) ", json.loads(line)["text"])]
rng = random.Random(1234)
zstd = subprocess.Popen(["zstd", "-q", "-f", "-3", "-o", out], stdin=subprocess.PIPE)
written, target = 0, size_mb * 1_000_000
while written < target:
    text = " ".join(rng.choices(sentences, k=rng.randint(20, 200)))
    line = (json.dumps({"text": text, "url": f"https://example.org/{written}"}) + "\n").encode()
    zstd.stdin.write(line)
    written += len(line)
zstd.stdin.close()
zstd.wait()
print(f"{written / 1e6:.0f} MB of jsonl -> {out} ({os.path.getsize(out) / 1e6:.0f} MB)")
