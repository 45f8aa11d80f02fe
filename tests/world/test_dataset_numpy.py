"""numpy alone reads a worldkv dataset, as docs/formats.md promises.

Run by ctest with Debian's /usr/bin/python3 and its numpy; argv[1] is the
worldkv-world binary."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def main():
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "ds")
        subprocess.run([tool, "dataset", "--out", out, "--episodes", "5", "--frames", "12",
                        "--size", "48", "--shard-episodes", "3", "-q"], check=True)
        index = json.load(open(os.path.join(out, "index.json")))
        assert index["format"] == "worldkv-dataset" and index["version"] == 1
        assert [s["episodes"] for s in index["shards"]] == [3, 2]
        total = 0
        for shard in index["shards"]:
            d = os.path.join(out, shard["dir"])
            frames = np.load(os.path.join(d, "frames.npy"), mmap_mode="r")
            depth = np.load(os.path.join(d, "depth.npy"), mmap_mode="r")
            poses = np.load(os.path.join(d, "poses.npy"))
            actions = np.load(os.path.join(d, "actions.npy"))
            revisit = np.load(os.path.join(d, "revisit.npy"))
            seeds = np.load(os.path.join(d, "world_seeds.npy"))
            e = shard["episodes"]
            assert frames.shape == (e, 12, 48, 48, 3) and frames.dtype == np.uint8, frames.shape
            assert depth.shape == (e, 12, 48, 48) and depth.dtype == np.float16
            assert poses.shape == (e, 12, 5) and poses.dtype == np.float32
            assert actions.shape == (e, 12, 5) and actions.dtype == np.float32
            assert revisit.shape == (e, 12) and revisit.dtype == np.int32
            assert seeds.shape == (e,) and seeds.dtype == np.uint64
            # frames hold a real picture, depth is positive, the first action is the no-op
            assert frames.std() > 10
            assert float(depth.min()) > 0
            assert np.all(actions[:, 0] == 0)
            # per-frame motion is what a person makes in 1/20 s
            step = np.linalg.norm(np.diff(poses[:, :, [0, 2]], axis=1), axis=-1)
            assert step.max() <= 0.07 * index["camera"]["run_factor"] + 1e-4, step.max()
            assert np.all(np.abs(actions[..., :4]) <= 1) and np.all((actions[..., 4] >= 0) & (actions[..., 4] <= 1))
            assert np.all(revisit < np.arange(12)[None, :])
            total += e
        assert total == index["episodes"] == 5
    print("test_dataset_numpy: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
