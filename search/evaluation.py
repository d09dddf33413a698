"""Search-quality evaluation: Hit@k, MRR@10, nDCG@10, no-good-match separation (AUROC), latency."""

import json
import math
import time
from dataclasses import dataclass

import numpy as np

from . import service


@dataclass
class GoldQuery:
    query: str
    relevant: list
    locale: str
    split: str = ""  # "tune" or "test": the fixed half a figure is tuned on or reported on


def read_gold(path, split=None):
    """The queries of a gold file; with `split`, only that committed half ("tune"/"test")."""
    queries = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                queries.append(
                    GoldQuery(
                        row["query"],
                        list(row.get("relevant") or []),
                        row.get("locale") or "en",
                        row.get("split") or "",
                    )
                )
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(
                    f"{path} line {number}: expected {{query, relevant, locale}} ({exc})"
                ) from exc
    if split:
        queries = [q for q in queries if q.split == split]
        if not queries:
            raise ValueError(f"{path} has no queries in split {split!r}")
    return queries


def auroc(positive_scores, negative_scores):
    """Probability a random answerable query gets a higher confidence than an unanswerable one."""
    if not positive_scores or not negative_scores:
        return None
    pos, neg = np.asarray(positive_scores), np.asarray(negative_scores)
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def evaluate(
    queries, *, channel="operator", user=None, k=10, mode="hybrid", run_out=None, search_kwargs=None
):
    hits_at = {1: 0, 3: 0, 10: 0}
    mrr = ndcg = 0.0
    answerable = 0
    conf_pos, conf_neg = [], []
    flagged_neg = flagged_pos = 0
    latencies = []
    run_lines = []
    for q in queries:
        started = time.perf_counter()
        try:
            response = service.search(
                q.query,
                user=user,
                channel=channel,
                locale=q.locale,
                limit=k,
                mode=mode,
                **(search_kwargs or {}),
            )
            results = [(h.page.external_id, h.score) for h in response.hits]
            confidence, no_good = response.confidence, response.no_good_match
        except service.InvalidQuery:
            results, confidence, no_good = [], 0.0, True
        latencies.append((time.perf_counter() - started) * 1000)
        if run_out is not None:
            run_lines.append(
                {
                    "query": q.query,
                    "results": [{"external_id": e, "score": s} for e, s in results],
                    "confidence": confidence,
                    "no_good_match": no_good,
                }
            )
        ids = [e for e, _ in results]
        if not q.relevant:
            conf_neg.append(confidence)
            flagged_neg += no_good
            continue
        answerable += 1
        conf_pos.append(confidence)
        flagged_pos += no_good
        relevant = set(q.relevant)
        rank = next((i for i, e in enumerate(ids[:k], start=1) if e in relevant), None)
        for cutoff in hits_at:
            hits_at[cutoff] += bool(rank and rank <= cutoff)
        if rank:
            mrr += 1.0 / rank
        dcg = sum(1.0 / math.log2(i + 1) for i, e in enumerate(ids[:k], start=1) if e in relevant)
        ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(relevant), k) + 1))
        ndcg += dcg / ideal if ideal else 0.0
    if run_out is not None:
        with open(run_out, "w", encoding="utf-8") as fh:
            for line in run_lines:
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    n = max(answerable, 1)
    lat = np.asarray(latencies) if latencies else np.zeros(1)
    return {
        "queries": len(queries),
        "answerable": answerable,
        "unanswerable": len(conf_neg),
        "hit@1": 100 * hits_at[1] / n,
        "hit@3": 100 * hits_at[3] / n,
        "hit@10": 100 * hits_at[10] / n,
        "mrr@10": 100 * mrr / n,
        "ndcg@10": 100 * ndcg / n,
        "auroc": auroc(conf_pos, conf_neg),
        "no_good_match_on_unanswerable": (100 * flagged_neg / len(conf_neg)) if conf_neg else None,
        "no_good_match_on_answerable": 100 * flagged_pos / n,
        "latency_p50_ms": float(np.percentile(lat, 50)),
        "latency_p95_ms": float(np.percentile(lat, 95)),
        "confidences": {"answerable": conf_pos, "unanswerable": conf_neg},
    }
