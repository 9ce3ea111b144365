"""The planner's prompts, written for this project: a task description and a worked example per task
(the system message), then the observation text and its candidate plans (the user message)."""

from __future__ import annotations

import json

_SKILLS = ("The agent can only carry out plans built from these skills, separated by commas: "
           "explore; go to <object>; pick up <object>; drop <object>; open <object>; "
           "toggle <object>.")

_DOORKEY = ("An agent is in a closed room and must leave it through a locked door. Only a key "
            "opens the door: the agent has to find the key, pick it up, walk to the door and open "
            "it. The agent sees only a few cells in front of it, so it may have to explore the "
            "room first. " + _SKILLS)

_COLOURED = ("An agent is in a closed room and must leave it through a locked door. There are "
             "two keys of different colours, and only the key of the door's colour opens it. The "
             "agent can carry one object at a time, so it must drop a wrong key before picking "
             "up another. The agent sees only a few cells in front of it, so it may have to "
             "explore first. " + _SKILLS)

TASK_DESCRIPTIONS: dict[str, str] = {
    "SimpleDoorKey": _DOORKEY,
    "LavaDoorKey": _DOORKEY + " Some cells are lava; the skills walk around it.",
    "DynamicDoorKey": _DOORKEY + " Balls roll around the room; the skills walk around them.",
    "ColoredDoorKey": _COLOURED,
    "RandomColoredDoorKey": _COLOURED,
    "TwoDoor": (
        "An agent is in a large closed room with two locked doors on opposite walls and one key "
        "near the middle of the room. Opening either door with the key completes the task. The "
        "agent sees only a few cells in front of it, so it has to explore to find the key and a "
        "door. " + _SKILLS),
    "KeyInBox": (
        "An agent is in a closed room and must leave it through a locked door. The key that "
        "opens the door is hidden inside a box: toggling the box opens it and leaves the key where "
        "the box was. The agent then picks up the key, walks to the door and opens it. The agent "
        "sees only a few cells in front of it, so it may have to explore first. " + _SKILLS),
    "RandomBoxKey": (
        "An agent is in a closed room and must leave it through a locked door. The key that "
        "opens the door is either lying on the floor or hidden inside the box in the room; you "
        "cannot tell which until the key is seen or the box is opened. Toggling the box opens it "
        "and leaves its content (maybe nothing) where the box was. The agent sees only a few "
        "cells in front of it, so it may have to explore first. " + _SKILLS),
}

_EXAMPLE_DOORKEY = ("Agent sees <key>, <door>, holds <nothing>.",
                    ["explore", "go to <key>, pick up <key>, go to <door>, open <door>",
                     "go to <door>, open <door>"],
                    "go to <key>, pick up <key>, go to <door>, open <door>")
_EXAMPLE_COLOURED = ("Agent sees <green key>, <green door>, holds <purple key>.",
                     ["explore", "go to <green door>, open <green door>",
                      "drop <purple key>, go to <green key>, pick up <green key>"],
                     "drop <purple key>, go to <green key>, pick up <green key>")
WORKED_EXAMPLES: dict[str, tuple[str, list[str], str]] = {
    "SimpleDoorKey": _EXAMPLE_DOORKEY,
    "LavaDoorKey": _EXAMPLE_DOORKEY,
    "DynamicDoorKey": _EXAMPLE_DOORKEY,
    "ColoredDoorKey": _EXAMPLE_COLOURED,
    "RandomColoredDoorKey": _EXAMPLE_COLOURED,
    "TwoDoor": ("Agent sees <door1>, holds <key>.",
                ["explore", "go to <door1>, open <door1>"], "go to <door1>, open <door1>"),
    "KeyInBox": ("Agent sees <box>, <door>, holds <nothing>.",
                 ["explore", "go to <door>, open <door>", "go to <box>, toggle <box>"],
                 "go to <box>, toggle <box>"),
    "RandomBoxKey": ("Agent sees <box>, holds <nothing>.",
                     ["explore", "go to <box>, toggle <box>", "go to <box>, pick up <box>"],
                     "go to <box>, toggle <box>"),
}


def choice_line(candidates: list[str]) -> str:
    return (f"Choose the next rational action from {json.dumps(candidates)}. "
            "No further explanation.")


def system_message(task: str) -> str:
    text, candidates, answer = WORKED_EXAMPLES[task]
    return (f"{TASK_DESCRIPTIONS[task]}\n\nExample.\nObservation: {text} "
            f"{choice_line(candidates)}\nAnswer: {answer}")


def user_message(text: str, candidates: list[str]) -> str:
    return f"Observation: {text} {choice_line(candidates)}"
