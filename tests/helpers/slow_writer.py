"""Writes a new index generation but stalls just before the manifest switch (to be killed)."""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbsite.settings.test")
sys.path.insert(0, os.getcwd())

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from embeddings import store as store_module  # noqa: E402

real_replace = os.replace


def stalling_replace(src, dst):
    if str(dst).endswith("manifest.json"):
        print("about to switch", flush=True)
        time.sleep(60)
    return real_replace(src, dst)


store_module.os.replace = stalling_replace
store = store_module.VectorStore(sys.argv[1])
with store.lock("en"):
    store.write("en", np.array([1, 2, 3, 4, 5]), np.eye(8, dtype="float32")[:5], "m", 8)
