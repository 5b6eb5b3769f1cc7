"""What a class set can and cannot teach, in sentences for the page (no gradio here).

With ten clips a class the models learn the people and rooms as readily as the activity, so the
numbers that matter are how many people (groups) each class has and whether the classes are
balanced. A class of one person is tested on that same person: its score measures memory, not
recognition. More people per class is the largest lever there is (docs/generalisation.md).
"""

from __future__ import annotations

from har_demo.studio.classset import ClassSet

UNBALANCED_RATIO = 2.0  # the largest class has at least this many times the smallest's clips


def people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


def counts_markdown(class_set: ClassSet) -> str:
    """Clips and people (groups) per class, e.g. '**Waving**: 10 clips, 2 people'."""
    counts, groups = class_set.counts(), class_set.groups()
    if not counts:
        return "No classes yet."
    return " · ".join(
        f"**{label}**: {n} clip{'s' if n != 1 else ''}, {people(len(groups.get(label, [])))}"
        for label, n in counts.items()
    )


def single_person_classes(class_set: ClassSet) -> list[str]:
    """Classes with clips of one group only (none of them is tested on someone new)."""
    return [label for label, groups in class_set.groups().items() if len(groups) == 1]


def warnings(class_set: ClassSet) -> list[str]:
    """Sentences to read before training: unbalanced classes, classes of one person."""
    counts = {label: n for label, n in class_set.counts().items() if n > 0}
    found = []
    if len(counts) >= 2:
        most, fewest = max(counts.values()), min(counts.values())
        if most >= UNBALANCED_RATIO * fewest:
            big = max(counts, key=counts.get)
            small = min(counts, key=counts.get)
            found.append(
                f"The classes are unbalanced: {big} has {most} clips and {small} {fewest}. The models will "
                f"lean towards {big}; record more {small} clips (or fewer {big})."
            )
    alone = [label for label in single_person_classes(class_set) if counts.get(label)]
    if alone:
        found.append(
            f"{', '.join(alone)} {'has' if len(alone) == 1 else 'have'} clips of one person only: "
            f"{'its' if len(alone) == 1 else 'their'} test clips will be that same person, so the score measures "
            "memory, not recognition. Press **Next person** and record someone else."
        )
    return found


def warnings_markdown(class_set: ClassSet) -> str:
    return "\n".join(f"⚠ {w}  " for w in warnings(class_set))


def memory_caveat(single_person: list[str]) -> str:
    """The evaluation's sentence for classes tested on the people they trained on ('' if none)."""
    if not single_person:
        return ""
    names = ", ".join(single_person)
    return (
        f"⚠ {names} {'was' if len(single_person) == 1 else 'were'} recorded by one person only, so "
        f"{'its' if len(single_person) == 1 else 'their'} test clips are other clips of that same person: "
        "for them this score measures memory, not recognition."
    )


def banner_markdown(class_set: ClassSet, label: str | None, group: int | None) -> str:
    """The recording area's headline: which class and person the next clip goes to."""
    if not label:
        return "### Add a class, then record"
    counts, groups = class_set.counts(), class_set.groups()
    try:
        group = int(group or 1)
    except (TypeError, ValueError):
        group = 1
    mine = sum(1 for clip in class_set.clips(label) if clip.group == group) if label in counts else 0
    return (
        f"### Recording: **{label}** · person (group) {group}\n"
        f"{label} has {counts.get(label, 0)} clips of {people(len(groups.get(label, [])))}; "
        f"{mine} of them by this person."
    )
