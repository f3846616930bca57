"""Amendment 10's numbers: how often mode's answer rests on high counts
and on a one-count lead, theirs (26 letters, train 1-50, test 101-150)
beside the half-scale replication (train 1-25, test 55, 65, 75) over 26
and over 13 letters.  Ties redrawn, as both generators do.

    python results/studies/replication-huang/mode_counts.py
"""

import numpy as np

from lengthgen.tasks import make_task


def stats(alphabet: int, lengths: list[int], n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    task = make_task("mode", alphabet=alphabet)
    tops, leads = [], []
    for length in rng.choice(lengths, size=n // 50):
        x = task.sample(rng, 50, int(length)).inputs
        for row in x:
            counts = np.sort(np.bincount(row))[::-1]
            tops.append(counts[0])
            leads.append(counts[0] - (counts[1] if len(counts) > 1 else 0))
    return np.array(tops), np.array(leads)


def main() -> None:
    rng = np.random.default_rng(0)
    print("| setting | train: top count >= 3 | >= 4 | mean top count | test: mean top count | lead of one count |")
    print("|---|---|---|---|---|---|")
    for name, alphabet, train, test in [
        ("theirs: 26 letters, 1-50 / 101-150", 26, list(range(1, 51)), list(range(101, 151))),
        ("here: 26 letters, 1-25 / 55, 65, 75", 26, list(range(1, 26)), [55, 65, 75]),
        ("here: 13 letters, 1-25 / 55, 65, 75", 13, list(range(1, 26)), [55, 65, 75]),
    ]:
        t, _ = stats(alphabet, train, 20_000, rng)
        tt, lead = stats(alphabet, test, 5_000, rng)
        print(
            f"| {name} | {np.mean(t >= 3):.2f} | {np.mean(t >= 4):.2f} | {t.mean():.2f} | {tt.mean():.1f} | "
            f"{np.mean(lead == 1):.2f} |"
        )


if __name__ == "__main__":
    main()
