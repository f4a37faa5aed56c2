"""Event logs read over block ranges, cached on disk.

Live RPCs refuse wide ``eth_getLogs`` ranges, so every query walks its range in chunks of
``chunk`` blocks (halving a chunk the node refuses). What was read is kept under the cache
folder, one JSON file per query (address + topic filter), with the last block scanned and that
block's hash: a second run asks only for the blocks after it. A cache file is written
atomically, and thrown away when the chain is not the one it was read from: a different
genesis hash, a different hash at the deployment block, or a different hash at its last
scanned block (a reorganisation, or a dev chain reverted to a snapshot).

Block timestamps are cached the same way (``blocks.json``), each with its hash.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence, TextIO

from eth_utils import event_abi_to_log_topic
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.datastructures import AttributeDict

from somstack.core.chain import batched
from somstack.core.manifest import write_json_atomically

CACHE_VERSION = 1
ZERO_TOPIC = "0x" + "00" * 32

Topics = Sequence["str | list[str] | None"]


@dataclass
class Stats:
    """What a run asked the node for: ``get_logs`` calls and the blocks they covered, and the
    blocks served from the cache."""

    get_logs: int = 0
    blocks_scanned: int = 0
    blocks_cached: int = 0
    invalidated: list[str] = field(default_factory=list)
    scanned_ranges: list[tuple[int, int]] = field(default_factory=list)  # (first, last) block of each query
    cached_ranges: list[tuple[int, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        # Blocks are counted once however many queries (one per contract and event) covered them.
        return {"getLogs": self.get_logs, "blocksScanned": _union(self.scanned_ranges), "blocksFromCache": _union(self.cached_ranges),
                "queriedBlockRanges": self.blocks_scanned, "invalidated": list(self.invalidated)}


def _union(ranges: list[tuple[int, int]]) -> int:
    """How many distinct blocks the inclusive ``ranges`` cover."""
    total, reach = 0, -1
    for low, high in sorted(ranges):
        if high > reach:
            total += high - max(low, reach + 1) + 1
            reach = high
    return total


@dataclass(frozen=True)
class Event:
    """A decoded log: the event's name and arguments, where it came from."""

    name: str
    args: dict[str, Any]
    address: str
    block: int
    tx: str
    log_index: int
    block_hash: str

    @property
    def order(self) -> tuple[int, int]:
        return (self.block, self.log_index)


def topic_of(contract: Contract, name: str) -> str:
    abi = next(i for i in contract.abi if i.get("type") == "event" and i["name"] == name)
    return Web3.to_hex(event_abi_to_log_topic(abi))


def address_topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:].lower()


class Progress:
    """A one-line progress bar on stderr for long scans (nothing for short ones)."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, enabled: bool = True):
        self.label, self.total, self.done = label, max(total, 1), 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self._last = 0.0

    def advance(self, blocks: int) -> None:
        self.done += blocks
        if self.enabled and (time.monotonic() - self._last > 0.2 or self.done >= self.total):
            self._last = time.monotonic()
            share = min(self.done / self.total, 1.0)
            bar = "#" * int(share * 30)
            self.stream.write(f"\r{self.label[:38]:38s} [{bar:30s}] {share:4.0%} {self.done:,}/{self.total:,} blocks")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")
            self.stream.flush()


class LogReader:
    """Reads the logs of (address, topics) queries up to a block, through the disk cache.

    ``anchor`` names the chain: its genesis hash and the hash of the deployment's first block;
    ``start`` is that block (nothing of the system is older). ``progress_over`` is the number of
    chunks from which a scan shows a progress bar."""

    def __init__(self, w3: Web3, cache_dir: Path | None, start: int, chunk: int = 5_000,
                 progress_over: int = 20, stream: TextIO | None = None):
        if chunk < 1:
            raise ValueError("chunk must be at least 1 block")
        self.w3 = w3
        self.dir = cache_dir
        self.start = start
        self.chunk = chunk
        self.progress_over = progress_over
        self.stream = stream
        self.stats = Stats()
        self._hashes: dict[int, str] = {}
        self.anchor = {"genesis": self.block_hash(0), "start": start, "startHash": self.block_hash(start)}

    # --- blocks ---

    def block_hash(self, number: int) -> str | None:
        if number not in self._hashes:
            try:
                block = self.w3.eth.get_block(number)
            except Exception:  # a block the node does not have (beyond its head, pruned)
                return None
            self._hashes[number] = Web3.to_hex(block["hash"])
        return self._hashes[number]

    def timestamps(self, blocks: dict[int, str | None]) -> dict[int, int]:
        """Block number -> timestamp for ``blocks`` (number -> expected hash, or None), from the
        cache when its hash matches, else from the node in batches."""
        path = self.dir / "blocks.json" if self.dir else None
        cached = self._load(path) if path else None
        known: dict[str, list[Any]] = (cached or {}).get("blocks", {})
        result, missing = {}, []
        for number, expected in blocks.items():
            entry = known.get(str(number))
            if entry and (expected is None or entry[1] == expected):
                result[number] = int(entry[0])
            else:
                missing.append(number)
        if missing:
            for block in batched(self.w3, missing, lambda n: self.w3.eth.get_block(n)):
                number = int(block["number"])
                result[number] = int(block["timestamp"])
                known[str(number)] = [int(block["timestamp"]), Web3.to_hex(block["hash"])]
            if path:
                write_json_atomically(path, {"version": CACHE_VERSION, "anchor": self.anchor, "blocks": known})
        return result

    # --- logs ---

    def read(self, label: str, contract: Contract, topics: Topics, to_block: int) -> list[Event]:
        """The logs of ``contract`` matching ``topics`` from the start block to ``to_block``,
        decoded with the contract's ABI, in chain order."""
        address = contract.address
        key = hashlib.sha256(json.dumps([address.lower(), list(topics)]).encode()).hexdigest()[:16]
        path = self.dir / f"{address.lower()}-{key}.json" if self.dir else None
        entry = self._valid(path, label)
        raw: list[dict[str, Any]] = entry["logs"] if entry else []
        scanned = int(entry["to"]) if entry else self.start - 1
        if scanned < to_block:
            self.stats.blocks_cached += max(scanned - self.start + 1, 0)
            if scanned >= self.start:
                self.stats.cached_ranges.append((self.start, scanned))
            raw = raw + self._scan(label, address, topics, scanned + 1, to_block)
            if path:
                write_json_atomically(path, {
                    "version": CACHE_VERSION, "anchor": self.anchor, "address": address, "topics": list(topics),
                    "to": to_block, "toHash": self.block_hash(to_block), "logs": raw,
                })
        else:
            self.stats.blocks_cached += to_block - self.start + 1
            if to_block >= self.start:
                self.stats.cached_ranges.append((self.start, to_block))
        by_topic = {topic_of(contract, i["name"]): i["name"] for i in contract.abi if i.get("type") == "event"}
        events = []
        for log in raw:
            if log["blockNumber"] > to_block:
                continue
            name = by_topic.get(log["topics"][0])
            if name is None:
                continue
            decoded = contract.events[name]().process_log(_attribute_log(log))
            events.append(Event(name, dict(decoded["args"]), address, log["blockNumber"], log["transactionHash"],
                                log["logIndex"], log["blockHash"]))
        return sorted(events, key=lambda e: e.order)

    def _valid(self, path: Path | None, label: str) -> dict[str, Any] | None:
        """The cache entry at ``path`` if it was read from this chain, else None."""
        if path is None:
            return None
        entry = self._load(path)
        if entry is None:
            return None
        if entry.get("anchor") != self.anchor:
            self.stats.invalidated.append(f"{label}: another chain or deployment")
            return None
        if self.block_hash(int(entry["to"])) != entry.get("toHash"):
            self.stats.invalidated.append(f"{label}: block {entry['to']} changed (reorganised or reverted)")
            return None
        return entry

    @staticmethod
    def _load(path: Path) -> dict[str, Any] | None:
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and entry.get("version") == CACHE_VERSION else None

    def _scan(self, label: str, address: str, topics: Topics, low: int, high: int) -> list[dict[str, Any]]:
        span = high - low + 1
        progress = Progress(label, span, self.stream, enabled=span > self.chunk * self.progress_over)
        found: list[dict[str, Any]] = []
        chunk = self.chunk
        start = low
        while start <= high:
            end = min(start + chunk - 1, high)
            try:
                logs = self._get_logs(address, topics, start, end)
            except Exception:
                if chunk == 1:
                    progress.close()
                    raise
                chunk = max(chunk // 2, 1)  # the node refused the range: ask for less
                continue
            found += [_plain_log(log) for log in logs]
            self.stats.blocks_scanned += end - start + 1
            self.stats.scanned_ranges.append((start, end))
            progress.advance(end - start + 1)
            start = end + 1
        progress.close()
        return found

    def _get_logs(self, address: str, topics: Topics, start: int, end: int) -> list[Any]:
        self.stats.get_logs += 1
        return self.w3.eth.get_logs({"address": address, "topics": list(topics), "fromBlock": start, "toBlock": end})


def _plain_log(log: Any) -> dict[str, Any]:
    return {
        "address": log["address"],
        "blockNumber": int(log["blockNumber"]),
        "blockHash": Web3.to_hex(log["blockHash"]),
        "transactionHash": Web3.to_hex(log["transactionHash"]),
        "transactionIndex": int(log["transactionIndex"]),
        "logIndex": int(log["logIndex"]),
        "topics": [Web3.to_hex(t) for t in log["topics"]],
        "data": Web3.to_hex(log["data"]),
    }


def _attribute_log(log: dict[str, Any]) -> AttributeDict:
    return AttributeDict({
        **log,
        "blockHash": HexBytes(log["blockHash"]),
        "transactionHash": HexBytes(log["transactionHash"]),
        "topics": [HexBytes(t) for t in log["topics"]],
        "data": HexBytes(log["data"]),
        "removed": False,
    })


