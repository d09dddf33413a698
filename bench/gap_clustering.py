"""Knowledge-gap clustering at scale, and its agreement with labelled intents.

Run: .venv/bin/python bench/gap_clustering.py [--events 100000] [--seed 1]

1. Scale: N synthetic no-good-match searches built from the 3,080 banking77 customer messages
   (../shared/eval/banking77.gold.jsonl), repeated with a Zipf-like popularity, some with a
   typo, some with a filler word, some only differing in case. They are written to a copy of
   var/db.sqlite3 and the real service `insights.gaps.knowledge_gaps()` runs twice: cold (it has
   to embed every distinct text) and warm (vectors come from the QueryVector cache), with the
   time per stage. Peer, same run: scikit-learn MiniBatchKMeans on the raw vectors of every
   event (no dedupe), with the encoding it would need extrapolated from the measured rate.
2. Quality: the 3,080 messages as unanswered queries through `cluster_vectors()`; adjusted Rand
   index and NMI against the 77 true intents, for a few distance thresholds.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402

GOLD = None  # the banking77 gold file: --gold of bench/gap_answered.py, else the shared set's


def gold_path():
    return GOLD or _django.shared_eval_dir() / "banking77.gold.jsonl"


FILLERS = [" please", " asap", " help", " thanks"]


def load_gold():
    rows = [json.loads(line) for line in gold_path().read_text().splitlines() if line.strip()]
    return [r["query"] for r in rows], [r["relevant"][0] for r in rows]


def synthetic(messages, n, seed):
    rng = random.Random(seed)
    weights = [1.0 / (rank + 1) ** 0.6 for rank in range(len(messages))]
    rng.shuffle(weights)
    picked = rng.choices(messages, weights=weights, k=n)
    out = []
    for text in picked:
        roll = rng.random()
        if roll < 0.05 and len(text) > 8:
            i = rng.randrange(2, len(text) - 2)
            text = text[:i] + text[i + 1 :]
        elif roll < 0.10:
            text = text + rng.choice(FILLERS)
        elif roll < 0.30:
            text = text.lower()
        out.append(text)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    _django.copy_database("kb-gap-bench-")
    _django.setup()
    import numpy as np
    from django.core.management import call_command
    from django.utils import timezone
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from embeddings.encoder import comparison_model_id, get_encoder
    from insights import gaps
    from insights.models import QueryVector, SearchEvent

    call_command("migrate", verbosity=0)
    encoder = get_encoder(comparison_model_id())
    messages, intents = load_gold()
    watch = _django.CpuWatch()

    # -- quality ---------------------------------------------------------------------------
    started = time.perf_counter()
    vectors = encoder.encode_queries([gaps.normalise(m) for m in messages])
    print(
        f"banking77: {len(messages)} messages, {len(set(intents))} intents "
        f"(encoded in {time.perf_counter() - started:.1f} s)"
    )
    print("threshold | clusters | ARI   | NMI")
    default = gaps.default_distance_threshold(encoder.model_id)
    for threshold in sorted({round(default * f, 3) for f in (0.75, 0.9, 1.0, 1.1, 1.3)}):
        labels = gaps.cluster_vectors(vectors, distance_threshold=threshold)
        print(
            f"{threshold:9.2f} | {len(set(labels)):8d} | {adjusted_rand_score(intents, labels):.3f} "
            f"| {normalized_mutual_info_score(intents, labels):.3f}"
        )
    from sklearn.cluster import AgglomerativeClustering

    direct = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=default,
    ).fit_predict(vectors)
    print(
        f"reference, sklearn directly on all {len(vectors)} vectors at "
        f"{default}: {len(set(direct))} clusters, "
        f"ARI {adjusted_rand_score(intents, direct):.3f}, "
        f"NMI {normalized_mutual_info_score(intents, direct):.3f}"
    )
    labels = gaps.cluster_vectors(vectors, distance_threshold=default)
    by_cluster = {}
    for text, label, vector in zip(messages, labels, vectors, strict=True):
        by_cluster.setdefault(label, []).append((text, vector))
    biggest = sorted(by_cluster.values(), key=len, reverse=True)[:5]
    print("labels of the 5 largest clusters (most central message):")
    for members in biggest:
        block = np.array([v for _t, v in members])
        centre = block.mean(axis=0)
        print(f"  {len(members):4d}  {members[int((block @ centre).argmax())][0]}")

    # -- scale -----------------------------------------------------------------------------
    # The events are banking77 questions: in a copy where the banking77 articles were imported
    # (for the search benchmarks) they are answered, not gaps. Take those articles out of the
    # copy so the benchmark clusters what it means to: 100k unresolved requests.
    from articles.models import SolutionArticlePage
    from embeddings.models import Chunk

    banking = SolutionArticlePage.objects.filter(external_id__startswith="banking")
    if banking.exists():
        Chunk.objects.filter(page__in=banking).delete()
        print(f"(bench copy: {banking.update(live=False)} banking77 articles unpublished)")
    texts = synthetic(messages, args.events, args.seed)
    now = timezone.now()
    rng = random.Random(args.seed)
    SearchEvent.objects.all().delete()
    QueryVector.objects.all().delete()
    started = time.perf_counter()
    SearchEvent.objects.bulk_create(
        [
            SearchEvent(
                channel="public", locale="en", query=t, no_good_match=True, session_key=f"bench-{i}"
            )
            for i, t in enumerate(texts)
        ],
        batch_size=5000,
    )
    SearchEvent.objects.update(created_at=now)
    for day in range(30):  # spread over a month
        ids = list(SearchEvent.objects.values_list("pk", flat=True)[day::30])
        SearchEvent.objects.filter(pk__in=ids[:30000]).update(
            created_at=now - timezone.timedelta(days=day, minutes=rng.randint(1, 600))
        )
    print(
        f"\n{len(texts)} events written in {time.perf_counter() - started:.1f} s "
        f"({len({gaps.normalise(t) for t in texts})} distinct normalised texts)"
    )

    runs = {}
    for name in ("cold", "warm"):
        started = time.perf_counter()
        report = gaps.knowledge_gaps(days=31, encoder=encoder, max_topics=100)
        runs[name] = (time.perf_counter() - started, report)
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
        print(
            f"project {name}: {runs[name][0]:.1f} s total ({stages}); encoded {report.encoded}, "
            f"{len(report.topics)} topics, {report.items} items clustered "
            f"({report.answered_since} left out: answered by an article published later), "
            f"{report.distinct_texts} distinct"
        )
    cold_time, cold = runs["cold"]
    encode_rate = cold.timings["embed"] / max(1, cold.encoded)

    # Peer: every event's vector, no dedupe, scikit-learn MiniBatchKMeans with as many clusters
    # as the project found topics of 2+ requests.
    keys = [gaps.normalise(t) for t in texts]
    unique = sorted(set(keys))
    index = {k: i for i, k in enumerate(unique)}
    unique_vectors, _n = gaps.embed_texts(unique, encoder)
    raw = unique_vectors[[index[k] for k in keys]]
    k = max(2, len(runs["warm"][1].topics) + runs["warm"][1].unclustered)
    k = min(k, 2000)
    started = time.perf_counter()
    MiniBatchKMeans(n_clusters=k, batch_size=4096, n_init=1, random_state=0).fit(raw)
    peer_cluster = time.perf_counter() - started
    peer_encode = encode_rate * len(texts)
    warm_time = runs["warm"][0]
    print("\nstage                         | project warm | project cold | peer (raw vectors)")
    print(
        f"encode                        | {runs['warm'][1].timings['embed']:10.1f} s | "
        f"{cold.timings['embed']:10.1f} s | {peer_encode:10.1f} s (extrapolated: "
        f"{len(texts)} texts at the measured {encode_rate * 1000:.1f} ms/text)"
    )
    print(
        f"cluster                       | {runs['warm'][1].timings['cluster']:10.1f} s | "
        f"{cold.timings['cluster']:10.1f} s | {peer_cluster:10.1f} s (MiniBatchKMeans k={k})"
    )
    print(
        f"total                         | {warm_time:10.1f} s | {cold_time:10.1f} s | "
        f"{peer_encode + peer_cluster:10.1f} s"
    )
    print(
        f"ratio peer / project warm: {(peer_encode + peer_cluster) / warm_time:.1f}x; "
        f"peer / project cold: {(peer_encode + peer_cluster) / cold_time:.1f}x"
    )
    print(
        "AgglomerativeClustering on the raw 100k vectors (the peer without micro-clusters) is "
        f"not run: its distance matrix alone needs {len(texts) ** 2 * 8 / 1e9:.0f} GB."
    )
    print(f"other processes used {watch.other():.1f} CPU-s during the run (contention check)")


if __name__ == "__main__":
    main()
