#!/usr/bin/env bash
# The training code end to end on a tiny config: render a small dataset,
# train a few steps, resume, export with golden vectors, read the export
# back and evaluate it on one unseen world. Checks wiring, not quality.
set -euo pipefail
world=$1
render=$2
here=$(cd "$(dirname "$0")/../../tools/train" && pwd)
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$world" dataset --out "$tmp/data" --episodes 6 --frames 16 --size 64 -q
$py "$here/train.py" --data "$tmp/data" --run "$tmp/run" --tiny --steps 3 --batch 2 --clip 8 --log-every 1 --save-every 3 --threads 2
$py "$here/train.py" --data "$tmp/data" --run "$tmp/run" --tiny --steps 5 --batch 2 --clip 8 --log-every 1 --save-every 5 --threads 2 \
  | tee "$tmp/resume.log"
grep -q "resumed .* at step 3" "$tmp/resume.log"
[ "$(wc -l < "$tmp/run/log.jsonl")" -eq 5 ]
$py "$here/export.py" --checkpoint "$tmp/run/checkpoint.pt" --out "$tmp/model.safetensors" --golden "$tmp/golden" \
  --golden-frames 3 > "$tmp/export.json"
grep -q '"tiny_memory_slots": 2' "$tmp/export.json"
# a later session's warm start: packed weights + the exported EMA
$py "$here/pack_resume.py" "$tmp/run/checkpoint.pt" "$tmp/resume.safetensors"
$py "$here/train.py" --data "$tmp/data" --run "$tmp/run2" --tiny --steps 7 --batch 2 --clip 8 --log-every 1 \
  --threads 2 --init-model "$tmp/resume.safetensors" --init-ema "$tmp/model.safetensors" --self-context 1 \
  --self-rounds 2 --grad-weight 0.1 --lowfreq-weight 1 --prev-dropout 0.1 --memory-truth 0.5 --energy-weight 5 \
  --head-cond 8 --prev-degrade 0.5 --near-memory 0.5 --head-lr-mult 10 --hole-weight 0.25 | tee "$tmp/warm.log"
grep -q "warm start from .* at step 5" "$tmp/warm.log"
grep -q "grew the rgb head to 8 conditioning channels" "$tmp/warm.log"
grep -q '"step": 7' "$tmp/run2/log.jsonl"
# self-forcing: rollouts on the model's own frames with the discriminator,
# then a packed discriminator carried into a later warm start
$py "$here/train.py" --data "$tmp/data" --run "$tmp/run2" --tiny --steps 9 --batch 2 --clip 8 --log-every 1 \
  --threads 2 --head-cond 8 --self-forcing 1 --sf-length 12 --sf-batch 2 --sf-grad-frames 3 --adv-weight 0.02 \
  --d-steps 3 --save-every 9 | tee "$tmp/sf.log"
grep -q '"self_forcing": true' "$tmp/sf.log"
grep -q '"d_loss"' "$tmp/sf.log"
# returns after an emulated long drift: only drift clips; the clip comes home
# before the frames with gradients, and drift_frame flattens a frame
$py "$here/train.py" --data "$tmp/data" --run "$tmp/run_drift" --tiny --steps 2 --batch 2 --clip 8 --log-every 1 \
  --threads 2 --head-cond 8 --self-forcing 1 --sf-length 24 --sf-batch 2 --sf-grad-frames 3 --adv-weight 0.02 \
  --sf-kinds 0,0,0,0,1 > "$tmp/drift.log"
grep -q '"self_forcing": true' "$tmp/drift.log"
$py - "$here" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import torch
from selfforce import clip_indices, drift_frame
gen = torch.Generator().manual_seed(1)
for _ in range(20):
    idx = clip_indices("drift", 64, 64, gen)
    assert len(idx) == 64 and idx[-12:] == [0] * 12 and max(idx) >= 16, idx
x = torch.rand(2, 3, 64, 64) * 2 - 1
y = drift_frame(x, torch.tensor([1.0, 0.0]), torch.zeros(2, 3))
assert torch.equal(y[1], x[1])
assert y[0].std((-2, -1)).max() < 0.3 * x[0].std((-2, -1)).min(), (y[0].std(), x[0].std())
PY
$py "$here/pack_resume.py" "$tmp/run2/checkpoint.pt" "$tmp/resume2.safetensors" | grep -q "discriminator"
$py "$here/train.py" --data "$tmp/data" --run "$tmp/run3" --tiny --steps 10 --batch 2 --clip 8 --log-every 1 \
  --threads 2 --head-cond 8 --head-gates 2 --init-model "$tmp/resume2.safetensors" --init-ema "$tmp/model.safetensors" \
  --init-disc "$tmp/resume2.disc.safetensors" --self-forcing 1 --sf-length 8 --sf-batch 2 --adv-weight 0.02 \
  --save-every 10 > "$tmp/warm2.log"
grep -q "warm start from .* at step 9" "$tmp/warm2.log"
# a discriminator that also sees the start frame grows from the packed one at zero
$py "$here/train.py" --data "$tmp/data" --run "$tmp/run4" --tiny --steps 10 --batch 2 --clip 8 --log-every 1 \
  --threads 2 --head-cond 8 --head-gates 2 --init-model "$tmp/resume2.safetensors" --init-ema "$tmp/model.safetensors" \
  --init-disc "$tmp/resume2.disc.safetensors" --self-forcing 1 --sf-length 8 --sf-batch 2 --adv-weight 0.02 \
  --disc-cond start > "$tmp/cond.log"
grep -q "grew the discriminator's input to the start frame" "$tmp/cond.log"
grep -q '"d_loss"' "$tmp/cond.log"
# a bank of recent triples: the discriminator warms up on rollouts of the
# starting model, then --d-steps draws its later updates from the bank
$py "$here/train.py" --data "$tmp/data" --run "$tmp/run5" --tiny --steps 11 --batch 2 --clip 8 --log-every 1 \
  --threads 2 --head-cond 8 --head-gates 2 --init-model "$tmp/resume2.safetensors" --init-ema "$tmp/model.safetensors" \
  --init-disc "$tmp/resume2.disc.safetensors" --self-forcing 1 --sf-length 8 --sf-batch 2 --sf-grad-frames 2 \
  --adv-weight 0.02 --disc-cond start --disc-bank 10 --disc-warmup 4 --d-steps 3 --adv-where known > "$tmp/bank.log"
grep -q "discriminator warm-up: update 4/4" "$tmp/bank.log"
grep -q '"d_accuracy_after"' "$tmp/run5/log.jsonl"
grep -q '"d_loss"' "$tmp/run5/log.jsonl"
$py "$here/plot_log.py" "$tmp/run5/log.jsonl" "$tmp/bank-loss.png" > /dev/null   # skips the warm-up record
if $py "$here/train.py" --data "$tmp/data" --run "$tmp/run6" --tiny --steps 1 --disc-warmup 4 \
  > /dev/null 2> "$tmp/bank-err.txt"; then exit 1; fi
grep -q "needs --disc-bank" "$tmp/bank-err.txt"
$py - "$here" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import torch
from disc_bank import TripleBank
bank = TripleBank(3)
for k in range(5):   # 5 pairs into 3 places: the oldest two make way
    bank.add(torch.full((1, 2, 2, 4), float(k)), torch.full((1, 2, 2, 4), -float(k)))
assert bank.size == 3 and sorted(bank.real[:, 0, 0, 0].tolist()) == [2.0, 3.0, 4.0]
ramp = torch.arange(4.0).expand(1, 2, 2, 4)
bank = TripleBank(2)
bank.add(ramp, -ramp)
r, f = bank.sample(64, torch.Generator().manual_seed(0))
assert r.shape == (64, 2, 2, 4) and r.dtype == torch.float32 and torch.equal(f, -r)   # a pair mirrors together
flipped = r[:, 0, 0, 0] == 3
assert 10 < int(flipped.sum()) < 54 and torch.equal(r[flipped][0], ramp[0].flip(-1))
try:
    TripleBank(2).sample(1, torch.Generator())
    raise SystemExit("an empty bank gave a sample")
except ValueError:
    pass
PY
# ... and a run that saved one does not resume without it, with a clear error
if $py "$here/train.py" --data "$tmp/data" --run "$tmp/run4" --tiny --steps 11 --batch 2 --clip 8 --threads 2 \
  --head-cond 8 --head-gates 2 > /dev/null 2> "$tmp/cond-err.txt"; then exit 1; fi
grep -q "trained with --disc-cond start" "$tmp/cond-err.txt"
$py - "$here" "$tmp/resume2.disc.safetensors" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import torch
from safetensors_io import read_safetensors
from selfforce import PatchDiscriminator, grow_disc_input
old, new = PatchDiscriminator().eval(), PatchDiscriminator(cond=3).eval()
saved, _ = read_safetensors(sys.argv[2])
old.load_state_dict(saved)
grown, did = grow_disc_input(saved, new)
assert did and not grow_disc_input(grown, new)[1]
new.load_state_dict(grown)
x = torch.rand(2, 9, 64, 64)
with torch.no_grad():
    a, b = old(x), new(torch.cat([x, torch.rand(2, 3, 64, 64)], 1))
assert torch.allclose(a, b, atol=1e-5), (a - b).abs().max()   # the new channels start at zero
try:
    grow_disc_input(grown, old)
    raise SystemExit("a 12-channel discriminator loaded into a 9-channel one")
except ValueError:
    pass
PY
grep -q "and 2 gates" "$tmp/warm2.log"
# a gated run resumes from its own checkpoint, grows a U-Net in its head, and exports
$py "$here/train.py" --data "$tmp/data" --run "$tmp/run3" --tiny --steps 11 --batch 2 --clip 8 --log-every 1 \
  --threads 2 --head-cond 8 --head-gates 2 --head-unet 1 > "$tmp/resume3.log"
grep -q "resumed .* at step 10" "$tmp/resume3.log"
grep -q "with a U-Net" "$tmp/resume3.log"
$py "$here/export.py" --checkpoint "$tmp/run3/checkpoint.pt" --out "$tmp/gated.safetensors" | grep -q '"step": 11'
grep -aq 'head_unet\\": 1' "$tmp/gated.safetensors"
# a blend of two students of one run exports like a checkpoint, and says what it is
$py "$here/blend.py" --a "$tmp/model.safetensors" --b "$tmp/resume.safetensors" --alpha 0.25 \
  --out "$tmp/blend.safetensors" | grep -q '"alpha": 0.25'
$py "$here/export.py" --checkpoint "$tmp/blend.safetensors" --out "$tmp/blended.safetensors" --golden "$tmp/golden2" \
  --golden-frames 2 --only student | grep -q '"student_memory_slots"'
[ ! -e "$tmp/golden2/tiny.safetensors" ]
grep -aq '"weights":"blend"' "$tmp/blended.safetensors"
if $py "$here/blend.py" --a "$tmp/model.safetensors" --b "$tmp/gated.safetensors" --alpha 0.5 \
  --out "$tmp/bad.safetensors" 2> "$tmp/blend-err.txt"; then exit 1; fi
grep -q "differ in shape" "$tmp/blend-err.txt"
$py "$here/plot_log.py" "$tmp/run/log.jsonl" "$tmp/loss.png"
# the quick onset picture: truth, then one row per model (an export, a checkpoint's raw weights)
$py "$here/onset.py" --world-tool "$world" --world 31 --last 12 --out "$tmp/onset-rows.png" "$tmp/model.safetensors" \
  "$tmp/run/checkpoint.pt:raw" | grep -q "2 model row"
$py - "$tmp/onset-rows.png" <<'PY'
import struct, sys
head = open(sys.argv[1], "rb").read(24)
w, h = struct.unpack(">II", head[16:24])
assert (w, h) == (3 * 128, 3 * 128), (w, h)   # frames 0, 6, 12 (shown at 2x); truth and two models
PY
if $py "$here/onset.py" --world-tool "$world" --out "$tmp/x.png" "$tmp/model.safetensors:raw" 2> "$tmp/onset-err.txt"; then
  exit 1
fi
grep -q "not a checkpoint" "$tmp/onset-err.txt"
$py "$here/eval.py" --model "$tmp/model.safetensors" --seeds 31 --episodes-per-seed 1 --world-tool "$world" \
  --steps 1 --wander-frames 120 --c2st-worlds 4 --c2st-frames 60 --walk-png "$tmp/walk.png" \
  --onset-png "$tmp/onset.png" > "$tmp/eval.json"
[ -s "$tmp/walk.png" ]
[ -s "$tmp/onset.png" ]
$py - "$tmp/eval.json" "$here" <<'PY'
import json, math, sys
r = json.load(open(sys.argv[1]))
assert r["episodes"] == 1 and r["onestep_frames"] > 0, r
for f in ("1", "16", "32", "64"):
    for k in ("psnr", "psnr_copy", "ssim", "sharpness"):
        assert math.isfinite(r["rollout"][f][k]), (f, k, r)
# the long-use measures: every figure present and finite
for k in ("idle_psnr_300", "return_ssim_spin", "return_ssim_out_and_back", "realism_c2st", "realism_c2st_null"):
    assert math.isfinite(r[k]), (k, r)
w = r["wander"]["worlds"][0]
assert len(w["segments"]) == 2 and all(math.isfinite(v) for v in (w["mean_ssim_100_on"], w["min_segment_ssim"])), w
assert all(math.isfinite(g[k]) for g in w["segments"] for k in ("edge_ratio", "colour_l1", "colour_l1_frozen")), w
assert isinstance(w["flat_segments"], int), w
# a flat field cannot pass for the world: no edges, and far in colour from a busy frame
sys.path.insert(0, sys.argv[2])
import torch
import eval_world as ew
from metrics import sharpness
busy = torch.rand(3, 64, 64)
flat = torch.zeros(3, 64, 64)
flat[1] = 0.6
assert sharpness(flat, busy) < ew.FLAT_EDGE_RATIO and ew.colour_l1(flat, busy) > 0.2, ew.colour_l1(flat, busy)
assert ew.colour_l1(busy, busy) == 0
# the unaligned baseline and the start view's pixels are reported per segment
assert all(0 <= g["known_fraction"] <= 1 and math.isfinite(g["ssim_unaligned"]) for g in w["segments"]), w
assert w["segments"][0]["known_fraction"] > 0 and math.isfinite(w["segments"][0]["known_psnr"]), w
# the start view's mask: the start frame shows itself, and a camera turned round sees none of it
frames = torch.randint(0, 255, (1, 2, 3, 64, 64), dtype=torch.uint8)
depth = torch.full((1, 2, 64, 64), 5.0)
poses = torch.tensor([[[0.0, 1.6, 0.0, 0.0, 0.0], [0.0, 1.6, 0.0, 180.0, 0.0]]])
m, err = ew.start_view_mask(frames, depth, poses, "catmull_rom")
assert m[0, 0].all() and not m[0, 1].any(), (m[0, 0].float().mean(), m[0, 1].float().mean())
assert err[0, 0] < 1e-3 and err[0, 1] == 0, err     # the start warped onto itself is the start
# a step forward towards a wall 5 m off sees it at 4 m; a wall 1 m in front hides it
poses = torch.tensor([[[0.0, 1.6, 0.0, 0.0, 0.0], [0.0, 1.6, -1.0, 0.0, 0.0]]])
depth[0, 1] = 4.0
assert ew.start_view_mask(frames, depth, poses, "catmull_rom")[0][0, 1].float().mean() > 0.5
depth[0, 1] = 1.0
assert not ew.start_view_mask(frames, depth, poses, "catmull_rom")[0][0, 1].any()
# teacher-forced regression: hole_weight only where a frame from pure noise has no warp
sys.path.insert(0, sys.argv[2])
from train import unknowable_weight
noisy = torch.zeros(1, 3, 11, 4, 4)
noisy[:, :, 6, :, :2] = 1       # the previous-frame warp shows the left half
noisy[:, :, 10, :2, :] = 1      # the memory warp shows the top half
batch = {"noisy_in": noisy, "t_noisy": torch.tensor([[1.0, 1.0, 0.5]])}
wt = unknowable_weight(batch, 0.25)
assert wt.shape == (1, 2, 1, 4, 4) and wt[0, 0, 0, 2:, 2:].eq(0.25).all() and wt[0, 0, 0, :2].eq(1).all(), wt
assert wt[0, 0, 0, :, :2].eq(1).all() and wt[0, 1].eq(1).all(), wt     # half noise: knowable from the input
assert 0 <= r["realism_c2st"] <= 1 and math.isfinite(r["incoming_strip"]["stretch_fill_psnr"]), r
PY
# the long-use measures' rollouts on the engine (eval.py --engine): a turned camera path keeps every
# relative pose the model sees, and the eval runs through worldkv-render
$py - "$here" <<'PY'
import math, sys
sys.path.insert(0, sys.argv[1])
import torch
from camera import relative_features
from engine_rollout import path_lines
from model import Student
gen = torch.Generator().manual_seed(2)
poses = torch.rand(40, 5, generator=gen) * torch.tensor([20.0, 0.2, 20.0, 360.0, 60.0]) + torch.tensor([0, 1.5, 0, -180, -30])
turned = torch.tensor([[float(v) for v in line.split()[1:]] for line in path_lines(poses).splitlines()])
assert turned[0, [0, 2, 3]].abs().max() < 1e-6, turned[0]
a, b = poses[:-1], poses[1:]
ta, tb = turned[:-1], turned[1:]
assert torch.allclose(Student.motion_features(a, b), Student.motion_features(ta, tb), atol=1e-3)
assert torch.allclose(relative_features(poses[:1].expand(40, 5), poses), relative_features(turned[:1].expand(40, 5), turned), atol=1e-3)
assert not torch.allclose(turned[:, [0, 2]], (poses - poses[0])[:, [0, 2]], atol=1e-2)   # it does turn
PY
$py "$here/eval.py" --model "$tmp/model.safetensors" --no-classic --only idle --engine "$render" \
  --world-tool "$world" --seeds 31 --steps 1 > "$tmp/eval-engine.json"
$py - "$tmp/eval-engine.json" <<'PY'
import json, math, sys
r = json.load(open(sys.argv[1]))
assert r["long_use_rollouts"] == "engine", r
assert all(math.isfinite(r[k]) for k in ("idle_psnr_300", "return_ssim_spin", "return_ssim_out_and_back")), r
PY
# the reference sampler: start image + action script -> a video
"$world" render --size 64 --frames 1 -o "$tmp/start.png" -q
$py "$here/sample.py" --model "$tmp/model.safetensors" --start "$tmp/start.png" --frames 3 --steps 1 \
  --actions "$(dirname "$0")/../../assets/paths/demo_walk.txt" -o "$tmp/sample.mkv"
[ "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$tmp/sample.mkv")" = 3 ]
printf '5 jump\n' > "$tmp/bad.txt"
if $py "$here/sample.py" --model "$tmp/model.safetensors" --start "$tmp/start.png" --actions "$tmp/bad.txt" \
  -o "$tmp/x.mkv" 2> "$tmp/err.txt"; then exit 1; fi
grep -q "bad.txt:1: unknown action 'jump'" "$tmp/err.txt"
echo "test_train_smoke: 1 passed, 0 failed"
