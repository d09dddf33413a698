"""Health of the vector index per locale: DB chunks vs FAISS entries, staleness, pending work."""

import numpy as np

from .encoder import current_model_id
from .indexing import store
from .models import Chunk, PendingIndexUpdate
from .store import IndexUnusable, index_ids


def index_info(locale_code):
    model_id = current_model_id()
    chunks = Chunk.objects.filter(locale__language_code=locale_code)
    current = chunks.filter(model_id=model_id)
    db_ids = np.fromiter(current.values_list("pk", flat=True), dtype="int64")
    row = {
        "locale": locale_code,
        "model_id": model_id,
        "db_chunks": chunks.count(),
        "pages": current.values("page_id").distinct().count(),
        "stale_chunks": chunks.exclude(model_id=model_id).count(),
        "pending_updates": PendingIndexUpdate.objects.count(),
        "index_count": None,
        "generation": None,
        "kind": None,
        "missing_from_index": int(len(db_ids)),
        "extra_in_index": 0,
        "problem": "",
    }
    try:
        loaded = store.load_from_disk(locale_code, model_id)
    except IndexUnusable as exc:
        if len(db_ids) or "no index" not in str(exc):
            row["problem"] = str(exc)
        return row
    present = index_ids(loaded.index)
    row.update(
        index_count=int(loaded.index.ntotal),
        generation=loaded.generation,
        kind=loaded.manifest["kind"],
        missing_from_index=int(len(np.setdiff1d(db_ids, present))),
        extra_in_index=int(len(np.setdiff1d(present, db_ids))),
    )
    return row
