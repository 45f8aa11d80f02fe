"""The action-script format of docs/formats.md and cam_step without walls
(tools/world/camera.c), in Python, for the reference sampler."""
import math

WALK_SPEED, RUN_FACTOR, TURN_RATE, LOOK_RATE, PITCH_LIMIT, DT = 1.4, 2.5, 90.0, 60.0, 60.0, 0.05
TERMS = {"forward": (0, 1), "back": (0, -1), "right": (1, 1), "left": (1, -1), "turn_right": (2, 1),
         "turn_left": (2, -1), "look_up": (3, 1), "look_down": (3, -1), "run": (4, 1)}


class ScriptError(ValueError):
    pass


def parse_actions(text, name="script"):
    """Returns a list of 5-float actions, one per frame after the start."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        try:
            frames = int(words[0])
        except ValueError:
            raise ScriptError(f"{name}:{lineno}: expected a frame count first, got '{words[0]}'")
        if frames < 1 or len(words) < 2:
            raise ScriptError(f"{name}:{lineno}: expected a positive frame count and at least one action")
        a = [0.0] * 5
        for w in words[1:]:
            key, _, val = w.partition("=")
            if key == "noop" and not val:
                continue
            if key not in TERMS:
                raise ScriptError(f"{name}:{lineno}: unknown action '{key}'")
            v = 1.0 if not val else float(val)
            if not 0.0 <= v <= 1.0:
                raise ScriptError(f"{name}:{lineno}: value of '{key}' must be in [0, 1]")
            i, sign = TERMS[key]
            a[i] += sign * v
        a = [max(-1.0, min(1.0, x)) for x in a[:4]] + [max(0.0, min(1.0, a[4]))]
        out.extend([a] * frames)
    if not out:
        raise ScriptError(f"{name}: the action script holds no actions")
    return out


def wrap(d):
    d = math.fmod(d, 360.0)
    return d - 360.0 if d > 180.0 else (d + 360.0 if d <= -180.0 else d)


def step(pose, a, dt=DT):
    """pose [x, y, z, yaw, pitch] -> next pose, as cam_step with no grid."""
    x, y, z, yaw, pitch = pose
    f, s, turn, look, run = a
    yaw = wrap(yaw + turn * TURN_RATE * dt)
    pitch = max(-PITCH_LIMIT, min(PITCH_LIMIT, pitch + look * LOOK_RATE * dt))
    norm = math.hypot(f, s)
    scale = 1.0 / norm if norm > 1.0 else 1.0
    speed = WALK_SPEED * (1.0 + (RUN_FACTOR - 1.0) * run) * dt * scale
    sy, cy = math.sin(math.radians(yaw)), math.cos(math.radians(yaw))
    return [x + (f * sy + s * cy) * speed, y, z + (-f * cy + s * sy) * speed, yaw, pitch]
