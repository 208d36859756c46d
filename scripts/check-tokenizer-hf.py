#!/usr/bin/env python3
"""Checks that Hugging Face `tokenizers` gives the same ids as Flame for the demo tokenizer.

Run from the repository root wherever `tokenizers` is installed (it is not on the dev machines):
    python3 scripts/check-tokenizer-hf.py [tokenizer.json] [fixture.json]
"""
import json
import sys

from tokenizers import Tokenizer

path = sys.argv[1] if len(sys.argv) > 1 else "data/demo/tokenizer.json"
fixture = sys.argv[2] if len(sys.argv) > 2 else "tests/Flame.Tests/Data/Fixtures/demo-tokenizer-ids.json"
tok = Tokenizer.from_file(path)
cases = json.load(open(fixture, encoding="utf-8"))
bad = [c["text"][:60] for c in cases if tok.encode(c["text"], add_special_tokens=False).ids != c["ids"]]
assert tok.get_vocab_size() == 8192 and tok.token_to_id("<|endoftext|>") == 0
assert all(tok.decode(c["ids"], skip_special_tokens=False) == c["text"] for c in cases)
print(f"{len(cases) - len(bad)}/{len(cases)} agree", bad)
sys.exit(1 if bad else 0)
