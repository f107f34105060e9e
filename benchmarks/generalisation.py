"""Leave-one-corpus-out scores of the training recipe and the ComParE recipe, side by side.

Runs :mod:`vocalbaby.generalisation` on the real-audio dev set (``../shared/data/real-dev``
beside the checkout, or ``--dataset``), optionally with a synthetic demo set added
(``--synthetic N`` clips; its corpora are labelled synthetic), prints the table and writes the
summary as JSON (``--out``). Features are cached by audio hash under ``--cache``. With
``--augment`` and/or ``--normalise``, every combination (plain included) is scored in the same
run, for each model family (XGBoost and a linear SVM), and the variant the pipeline would
choose is printed (the first within 0.02 of the best pooled LOCO UAR).

    .venv/bin/python benchmarks/generalisation.py --synthetic 600 --out loco.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from vocalbaby import (
    augmentation,
    dataset,
    feature_cache,
    features,
    generalisation,
    splits,
    synthetic,
    training,
)
from vocalbaby.model import FAMILIES

REAL_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-dev"
DEFAULT_CACHE = Path(__file__).resolve().parents[1] / "artifacts" / "feature_cache"


def load(
    roots: list[Path], cache: Path, feature_set: str = features.DEFAULT_FEATURE_SET
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The manifests of ``roots`` (with ``sha256``) and their features, indexed by clip id."""
    manifest = pd.concat([dataset.inspect(dataset.read(root)) for root in roots], ignore_index=True)
    unique = manifest.drop_duplicates("sha256").set_index("sha256")
    table, extracted = feature_cache.extract_missing(
        feature_cache.cache_uri(str(cache), feature_set),
        unique["uri"].to_dict(),
        feature_set=feature_set,
    )
    if extracted.failures:
        print(f"{len(extracted.failures)} clips failed extraction and are left out")
    manifest = manifest[manifest["sha256"].isin(table.index)].set_index("clip_id")
    return manifest, table.loc[manifest["sha256"]].set_axis(manifest.index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=REAL_DEV)
    parser.add_argument("--synthetic", type=int, default=0, help="demo clips to add (0: none)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--params", type=json.loads, default={}, help="XGBoost params (JSON)")
    parser.add_argument(
        "--augment", type=int, default=0, help="augmented copies per training clip (0: none)"
    )
    parser.add_argument(
        "--normalise",
        type=float,
        default=None,
        metavar="PRIOR_CLIPS",
        help="normalise features per recording with this shrinkage prior (default: off)",
    )
    parser.add_argument(
        "--families",
        nargs="+",
        default=list(FAMILIES),
        choices=list(FAMILIES),
        help="model families to compete, in order of preference (default: %(default)s)",
    )
    parser.add_argument(
        "--feature-set", default=features.DEFAULT_FEATURE_SET, choices=list(features.FEATURE_SETS)
    )
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the summary as JSON here")
    args = parser.parse_args()

    started = time.perf_counter()
    roots = [args.dataset]
    if args.synthetic:
        roots.append(
            synthetic.generate(Path(tempfile.mkdtemp()) / "demo", args.synthetic, args.seed)
        )
    manifest, table = load(roots, args.cache, args.feature_set)
    labels, groups = (
        manifest["label"],
        splits.groups(manifest.reset_index()).set_axis(manifest.index),
    )
    units = generalisation.held_out_units(manifest["corpus"], labels, groups, seed=args.seed)
    params = training.DEFAULT_PARAMS | args.params
    augment = augmentation.AugmentationConfig(copies=max(args.augment, 1), seed=args.seed)
    extra = augmentation.training_copies(
        manifest,
        groups,
        augmentation.cache_uri(str(args.cache), args.feature_set),
        augment,
        feature_set=args.feature_set,
    )
    options = generalisation.option_grid(args.augment > 0, args.normalise, args.families)
    predictions = generalisation.predict_held_out(
        table,
        labels,
        groups,
        units,
        generalisation.recipes(params, args.seed, options=options),
        extra=extra,
        progress=print,
    )
    summary = generalisation.summarise(predictions, n_boot=args.bootstrap, seed=args.seed)
    summary |= {
        "params": params,
        "augmentation": augment.as_dict() if args.augment else None,
        "options": [o.as_dict() for o in options],
        "feature_set": args.feature_set,
        "clips": len(manifest),
        "seconds": time.perf_counter() - started,
    }
    print(generalisation.table(summary).to_markdown(index=False))
    chosen = generalisation.choose(summary, options)
    summary["chosen"] = chosen.as_dict() | {
        "headline": generalisation.headline(summary, chosen.name)
    }
    print(f"chosen by pooled LOCO UAR: {chosen.name}")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
