"""Reads worldkv-world datasets (docs/formats.md) with numpy alone."""
import json
import os

import numpy as np


class Dataset:
    def __init__(self, root):
        self.index = json.load(open(os.path.join(root, "index.json")))
        if self.index.get("format") != "worldkv-dataset" or not self.index.get("depth"):
            raise ValueError(f"{root}: not a worldkv dataset with depth")
        self.shards = []
        for s in self.index["shards"]:
            d = os.path.join(root, s["dir"])
            self.shards.append({
                "frames": np.load(os.path.join(d, "frames.npy"), mmap_mode="r"),
                "depth": np.load(os.path.join(d, "depth.npy"), mmap_mode="r"),
                "poses": np.load(os.path.join(d, "poses.npy")),
                "actions": np.load(os.path.join(d, "actions.npy")),
                "episodes": s["episodes"],
            })
        self.episodes = sum(s["episodes"] for s in self.shards)
        self.frames = self.index["frames_per_episode"]

    def locate(self, episode):
        for s in self.shards:
            if episode < s["episodes"]:
                return s, episode
            episode -= s["episodes"]
        raise IndexError(episode)

    def clip(self, episode, start, length):
        s, e = self.locate(episode)
        sl = slice(start, start + length)
        return (np.asarray(s["frames"][e, sl]), np.asarray(s["depth"][e, sl], dtype=np.float32),
                s["poses"][e, sl].copy(), s["actions"][e, sl].copy())

    def batch(self, rng, batch, length):
        out = [self.clip(int(rng.integers(self.episodes)), int(rng.integers(self.frames - length + 1)), length)
               for _ in range(batch)]
        return [np.stack(x) for x in zip(*out)]
