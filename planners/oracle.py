"""A rule-based "right plan" for every situation: the plan a perfect planner would give.

It reads what the text says (which objects are seen, what is held; the coloured tasks: the real
colours, since the door's colour tells which key is right) and, beyond the text, one thing from
the recorded coordinates: whether a key or a box lies on the cell in front of the door (the tasks
may place one there), which makes the door unreachable until that object is moved. It never reads
the hidden state (what a box contains, where unseen objects are). With these
plans the teacher's failures are skill failures; the gap between the teacher with LLM answers and
with the oracle measures the failures due to wrong plans.

Rules, first match wins:
1. holding the right key: ``go to <door>, open <door>`` if a door is seen (TwoDoor: ``<door1>``),
   else ``explore, go to <door>, open <door>``;
2. holding something else (a box, a coloured task's wrong key): drop it, then go on as if empty-
   handed;
3. the right key is seen: ``go to <key>, pick up <key>`` (+ the door part if the door is seen);
4. a box is seen (KeyInBox, RandomBoxKey with no key seen): ``go to <box>, open <box>``;
5. otherwise ``explore``. RandomColoredDoorKey explores until the door is seen, then takes the
   key of the door's colour; in ColoredDoorKey the door is always blue, so the blue key is right
   from the start.
A door blocked by an object comes first: a box is opened (it turns into its content: the key,
which is then picked up, or nothing); a coloured task's wrong key is picked up (the right key
dropped first if held) and dropped elsewhere (:class:`planners.skills.Drop` avoids the cells
beside a door).
"""

from __future__ import annotations

from planners.mediator import COLOURED_TASKS, Perception, _canonical

__all__ = ["OracleTeacher", "oracle_plan"]


def _door_part(door: str | None) -> str:
    return f"go to <{door}>, open <{door}>" if door else ""


def _join(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def _blocker(objects: dict[str, tuple[int, int]], door: str | None) -> str | None:
    """The key or box on a cell beside the door, if any."""
    if door is None:
        return None
    dx, dy = objects[door]
    for name, (x, y) in objects.items():
        if not name.startswith("door") and not name.endswith("door") and abs(x - dx) + abs(
                y - dy) == 1:
            return name
    return None


def oracle_plan(task: str, perception: Perception) -> str:
    """The right plan for this perception (concrete colours in the coloured tasks)."""
    task = _canonical(task)
    objects, held = perception.objects, perception.held
    if task in COLOURED_TASKS:
        door = next((o for o in objects if o.endswith(" door")), None)
        key = door.replace(" door", " key") if door else None
        if task == "ColoredDoorKey":  # the original's door is always blue
            key = "blue key"
        blocker = _blocker(objects, door)
        if blocker is not None and blocker != key:  # the wrong key bars the door
            if held is not None:
                return f"drop <{held}>"
            return f"go to <{blocker}>, pick up <{blocker}>"
        if held is not None and held == key:  # (ColoredDoorKey: maybe before the door is seen)
            return _door_part(door) if door else _join("explore", _door_part("blue door"))
        drop = f"drop <{held}>" if held is not None else ""
        if key is None:  # the door's colour is still unknown
            return _join(drop, "explore")
        if key in objects:
            return _join(drop, f"go to <{key}>, pick up <{key}>", _door_part(door))
        return _join(drop, "explore")
    door_name = "door1" if task == "TwoDoor" else "door"
    door = door_name if door_name in objects else None
    if held == "key" and _blocker(objects, door) == "box":
        return _join("go to <box>, open <box>", _door_part(door))
    if held == "key":
        return _door_part(door) if door else _join("explore", _door_part(door_name))
    drop = f"drop <{held}>" if held is not None else ""
    if "key" in objects:
        return _join(drop, "go to <key>, pick up <key>", _door_part(door))
    if "box" in objects:
        return _join(drop, "go to <box>, open <box>")
    return _join(drop, "explore")


class OracleSource:
    """What training and evaluation ask of a teacher's planner: a description and counters
    (all zero: the oracle asks no LLM)."""

    llm = None  # no live LLM, nothing recorded
    record_path = None

    def __init__(self) -> None:
        from planners.planner import PlannerStats

        self.stats, self.recorded = PlannerStats(), {}

    @staticmethod
    def fallback_summary() -> None:
        return None

    @staticmethod
    def describe() -> str:
        return "teacher: no LLM, the oracle's rule-based right plans (--oracle_planner)"


class OracleTeacher:
    """The oracle's plan + the skills as a teacher (one-hot action distributions)."""

    def __init__(self, task: str) -> None:
        from planners.teacher import TeacherStats

        self.task, self.planner, self.stats = task, OracleSource(), TeacherStats()

    def batch_probs(self, obs, deterministic: bool = False):
        import numpy as np

        from planners.mediator import perceive
        from planners.skills import parse_plan, plan_action

        out = np.zeros((len(obs), 7))
        for i, o in enumerate(obs):
            p = perceive(self.task, o)
            out[i, plan_action(parse_plan(oracle_plan(self.task, p)), o, p)] = 1.0
        return out

    def expected_probs(self, obs):
        return self.batch_probs(obs)  # one plan: its label is its expectation
