"""A seeded, synthetic credit-applications dataset with a sensitive attribute, made here (no download).

It carries the problems preprocessing must fix (duplicates, missing values, outliers, categoricals)
and a deliberate selection bias on ``sex`` so the pre-training bias metrics have something to find.
``python -m pipelines.data.generate`` rewrites the committed sample; a test proves it is reproducible.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

SAMPLE = Path(__file__).resolve().parent / "credit_applications.csv"
EMPLOYMENT = ["salaried", "self_employed", "unemployed", "retired"]
EDUCATION = ["high_school", "bachelor", "master", "doctorate"]
REGIONS = ["north", "south", "east", "west"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def generate(rows: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=rows, p=[0.38, 0.62])  # under-represented facet: CI > 0
    age = rng.integers(18, 76, size=rows)
    education = rng.choice(EDUCATION, size=rows, p=[0.4, 0.35, 0.2, 0.05])
    employment = rng.choice(EMPLOYMENT, size=rows, p=[0.6, 0.2, 0.08, 0.12])
    region = rng.choice(REGIONS, size=rows)
    income = np.round(rng.lognormal(mean=10.6, sigma=0.45, size=rows) * (1 + 0.15 * (education != "high_school")), 2)
    debt_to_income = np.round(np.clip(rng.gamma(2.0, 0.18, size=rows), 0, 2.5), 4)
    history = np.clip(age - 18 - rng.integers(0, 10, size=rows), 0, None)
    accounts = rng.poisson(4, size=rows)
    logit = (
        -1.4
        + 3.0 * (debt_to_income - 0.36)
        - 0.9 * (np.log(income) - 10.7)
        - 0.04 * (history - 15)
        + 1.3 * (employment == "unemployed")
        + 0.35 * (employment == "self_employed")
        + 0.45 * (sex == "female")  # historical selection bias the report must surface (DPL > 0)
        + rng.normal(0, 0.6, size=rows)
    )
    default = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(
        {
            "applicant_id": [f"A{index:06d}" for index in range(rows)],
            "event_time": [
                (START + timedelta(minutes=17 * index)).strftime("%Y-%m-%dT%H:%M:%SZ") for index in range(rows)
            ],
            "age": age,
            "income": income,
            "debt_to_income": debt_to_income,
            "credit_history_years": history,
            "open_accounts": accounts,
            "employment_type": employment,
            "education": education,
            "region": region,
            "sex": sex,
            "default": default,
        }
    )
    frame.loc[rng.random(rows) < 0.03, "income"] = np.nan  # missing values to impute
    frame.loc[rng.random(rows) < 0.02, "employment_type"] = np.nan
    outliers = rng.random(rows) < 0.01
    frame.loc[outliers, "income"] = frame.loc[outliers, "income"] * 40  # data-entry outliers to treat
    duplicates = frame.sample(frac=0.02, random_state=seed)  # re-sent applications to deduplicate
    return pd.concat([frame, duplicates]).sort_values("applicant_id", kind="stable").reset_index(drop=True)


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else SAMPLE
    generate().to_csv(target, index=False, lineterminator="\n")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
