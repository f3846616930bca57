"""Renames the study's cells made before a program task's identity became
its program's content (commit after fedce6a): those cells hashed the
absolute path of their .rasp file, so a clone elsewhere could not find them
and `bench` would train them again.  Their configuration is unchanged;
each record gets the fingerprint today's code computes for it (the same
at its recorded definition versions) and the file that fingerprint names.
Idempotent: a cell already named by its fingerprint is left alone.

It also repairs the cells made by 3dac0ae, whose stored configuration
held the content-named task (``rasp:`` and the hash) in place of the file
it ran: the file, from the record's own task section, goes back into the
configuration (the fingerprint is the same either way).

    python results/studies/generated/migrate_identity.py [FOLDER]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lengthgen.results import write_text_atomic
from lengthgen.runconfig import config_of_record, fingerprint_of
from lengthgen.versions import record_versions

HERE = Path(__file__).resolve().parent


def fingerprint(record: dict) -> str:
    return fingerprint_of(config_of_record(record).identity(record_versions(record)))


def main(folder: Path) -> int:
    moved = 0
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text())
        config = record["config"]
        if config["task"] == "rasp:":
            before = fingerprint(record)
            program = record["task"]["params"]["program"]
            config["task"] = f"rasp:{program}"
            config["params"] = {"program": program, **config["params"]}
            if fingerprint(record) != before:
                raise SystemExit(f"{path}: the repaired configuration names another run")
            write_text_atomic(path, json.dumps(record, indent=2) + "\n")  # an interrupted run loses no cell
            print(f"{path.name}: configuration names its program file again")
        new = fingerprint(record)
        if record["fingerprint"] == new:
            continue
        if record["name"] != record["fingerprint"][:16] or path.stem != record["name"]:
            raise SystemExit(f"{path}: not a bench cell named by its fingerprint; left alone")
        target = folder / f"{new[:16]}.json"
        if target.exists():
            raise SystemExit(f"{path}: {target.name} exists already")
        record["fingerprint"], record["name"] = new, new[:16]
        write_text_atomic(target, json.dumps(record, indent=2) + "\n")
        path.unlink()
        moved += 1
        print(f"{path.name} -> {target.name}")
    print(f"{moved} cells renamed in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "runs" / "generated"))
