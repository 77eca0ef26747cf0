"""Names of characters and things, split deterministically into a training and a held-out pool.

* ``NAMES``: every name (>= 200), each with a ``KIND`` (character, animal, thing, place, plant).
* ``TRAIN_NAMES`` / ``HELDOUT_NAMES``: a fixed, disjoint split (about 1 in 5 held out, by a hash of the name).
* ``SYNTHETIC_NAMES`` / ``LETTERS``: made-up names (syllables) and single capital letters (StepGame's agents), for the
  ``"wide"`` training pool: the training names plus the made-up ones, and in some scenes letters only. A model trained
  on it has to copy names it cannot have memorised; the held-out names stay unseen.
* ``assign_symbols(names)``: one distinct uppercase letter per object for the grid format.
* ``COLOURS`` / ``SIZES``: optional props the text may mention.

No name is a whole word inside another (so the first mention of a name is unambiguous), and no name contains a digit,
a period or a spatial word (left, above, north, corner, ...), so the rule parser can find names in sentences.
"""
from __future__ import annotations

import hashlib
import random
import string
from typing import Sequence

_CHARACTERS = """Alice|the White Rabbit|the Hatter|the March Hare|the Dormouse|the Cheshire Cat|the Queen of Hearts|
the King of Hearts|the Knave of Hearts|the Duchess|the Cook|the Caterpillar|the Mock Turtle|the Gryphon|the Dodo|the Lory|
the Eaglet|the Duck|Bill the Lizard|the Frog Footman|the Fish Footman|the Pigeon|the Baby|Dinah|the Executioner|
Tweedledum|Tweedledee|Humpty Dumpty|the Red Queen|the White Queen|the Red King|the White King|the White Knight|
the Red Knight|the Jabberwock|the Walrus|the Carpenter|the Lion|the Unicorn|the Sheep|the Gnat|the Fawn|the Bandersnatch|
Bob|Carol|Dave|Eve|Frank|Grace|Heidi|Ivan|Judy|Mallory|Oscar|Peggy|Sybil|Trent|Victor|Walter|Xavier|Yara|Zoe|Mia|Noah|
Liam|Emma|Olivia|Ava|Lucas|Hugo|Iris|Jack|Kate|Leo|Maya|Nina|Omar|Paula|Quinn|Rosa|Sam|Tara|Uma|Vera|Wendy|Felix|
Greta|Henry|Ingrid|Jonas|Klara|Lena|Marco|Nora|Otto|Pia|Ruth|Simon|Theo|Ulla|Viktor|Wilma|Yusuf|Zara|the Baker|
the Miller|the Shepherd|the Squire|the Wizard|the Witch|the Pirate|the Sailor|the Farmer|the Fisherman|the Painter|
the Poet|the Doctor|the Teacher|the Soldier|the Prince|the Princess|the Giant|the Dwarf|the Elf|the Troll|the Ogre|
the Fairy|the Mermaid|the Dragon"""

_ANIMALS = """a dog|a horse|a cow|a goat|a pig|a fox|an owl|a crow|a swan|a bear|a wolf|a deer|a squirrel|a badger|an otter|
a beaver|a mole|a hen|a rooster|a donkey|a camel|a zebra|a giraffe|a tiger|a parrot|a peacock|a tortoise|a snail|
a beetle|a bee|a butterfly|a heron|a lamb|a kitten|a puppy|a hedgehog|a flamingo|a raven|a stork|a moose"""

_THINGS = """the teapot|the teacup|the table|the chair|the clock|the mirror|the door|the key|the bottle|the cake|the tart|
the lamp post|the mailbox|the statue|the bench|the fountain|the wagon|the wheelbarrow|the scarecrow|the ladder|
the umbrella|the kettle|the basket|the barrel|the anchor|the cannon|the drum|the harp|the piano|the trumpet|the lantern|
the candle|the crown|the sword|the shield|the hat|the boot|the glove|the spoon|the fork"""

_PLACES = """the house|a well|the pond|the gate|the bridge|the tower|the windmill|the barn|the church|the castle|
the lighthouse|the shed|the stable|the bakery|the library|the school|the market|the mill|the cottage|the hut|the tent|
the cave|the boulder|the stump|the hedge|the greenhouse|the chapel|the palace|the inn|the forge|the dock|the pier|
the fence|the haystack|the campfire|the tunnel|the orchard|the vineyard|the meadow|the quarry"""

_PLANTS = """an oak|a pine|a willow|a birch|a maple|an elm|a cherry tree|an apple tree|a cactus|a palm|a fern|
a sunflower|a tulip|a daisy|a lily|a mushroom|a rose bush|a beech|a cedar|a poplar|a chestnut|a yew|a hazel|an ash"""


def _split(block: str) -> list[str]:
    return [n.strip() for n in block.replace("\n", "").split("|") if n.strip()]


KIND: dict[str, str] = {}
for _kind, _block in (("character", _CHARACTERS), ("animal", _ANIMALS), ("thing", _THINGS), ("place", _PLACES),
                      ("plant", _PLANTS)):
    for _n in _split(_block):
        if _n in KIND:
            raise RuntimeError(f"duplicate name {_n!r}")
        KIND[_n] = _kind

NAMES: tuple[str, ...] = tuple(KIND)
"""Every name, in a fixed order."""

ARTICLES = ("the ", "a ", "an ")


def core(name: str) -> str:
    """The name without its leading article ('the White Rabbit' -> 'White Rabbit')."""
    for art in ARTICLES:
        if name.lower().startswith(art):
            return name[len(art):]
    return name


def _is_heldout(name: str) -> bool:
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 5 == 0


TRAIN_NAMES: tuple[str, ...] = tuple(n for n in NAMES if not _is_heldout(n))
HELDOUT_NAMES: tuple[str, ...] = tuple(n for n in NAMES if _is_heldout(n))


def _synthetic(n: int, seed: int = 0) -> tuple[str, ...]:
    """``n`` made-up names of 2-3 syllables, as a character ("Tovarek"), "the Tovarek" or "a tovarek", distinct from
    every pool name and from each other (case-insensitively, without the article)."""
    rng = random.Random(seed)
    cons, vow = "bdfgklmnprstvz", "aeiou"
    taken = {core(x).lower() for x in NAMES} | {"left", "right", "above", "below", "north", "south", "east", "west",
                                                  "corner", "cell", "step", "top", "bottom", "over", "under", "side"}
    out: list[str] = []
    while len(out) < n:
        word = "".join(rng.choice(cons) + rng.choice(vow) for _ in range(rng.choice((2, 3))))
        word += rng.choice(("", "n", "r", "k", "l"))
        if word in taken:
            continue
        taken.add(word)
        form = rng.random()
        out.append(word.capitalize() if form < 0.4 else f"the {word.capitalize()}" if form < 0.7
                   else f"{'an' if word[0] in vow else 'a'} {word}")
    return tuple(out)


SYNTHETIC_NAMES: tuple[str, ...] = _synthetic(400)
LETTERS: tuple[str, ...] = tuple(string.ascii_uppercase)
P_LETTER_SCENE = 0.25
"""In the ``"wide"`` pool, the probability that a scene's objects are all single letters."""

POOLS: dict[str, tuple[str, ...]] = {"train": TRAIN_NAMES, "heldout": HELDOUT_NAMES,
                                     "wide": TRAIN_NAMES + SYNTHETIC_NAMES}

COLOURS: tuple[str, ...] = ("red", "blue", "green", "yellow", "purple", "orange", "black", "white", "grey", "pink",
                            "brown")
SIZES: tuple[str, ...] = ("small", "big", "tiny", "huge")


def pool(which: str) -> tuple[str, ...]:
    """The 'train', 'heldout' or 'wide' name pool; ValueError for anything else."""
    try:
        return POOLS[which]
    except KeyError:
        raise ValueError(f"unknown name pool {which!r}; use one of {', '.join(POOLS)}") from None


def assign_symbols(names: Sequence[str]) -> list[str]:
    """One distinct uppercase letter per name: the first letter of the name without its article when free, else
    another letter of the name, else the first free letter of the alphabet. At most 26 names."""
    if len(names) > 26:
        raise ValueError(f"{len(names)} objects need more than 26 single-letter symbols; use at most 26 objects")
    used: set[str] = set()
    out: list[str] = []
    for n in names:
        cands = [c.upper() for c in core(n) if c.isalpha()] + list(string.ascii_uppercase)
        sym = next(c for c in cands if c not in used)
        used.add(sym)
        out.append(sym)
    return out


def sample_names(rng: random.Random, n: int, which: str = "train") -> list[str]:
    """``n`` distinct names from a pool (the ``"wide"`` pool: letters only in a ``P_LETTER_SCENE`` share of scenes)."""
    p = pool(which)
    if which == "wide" and rng.random() < P_LETTER_SCENE:
        p = LETTERS
    if n > len(p):
        raise ValueError(f"the {which!r} name pool has {len(p)} names but {n} objects were asked for; use fewer objects")
    return rng.sample(p, n)


def cap_first(s: str) -> str:
    """Capitalise the first character (for sentence starts: 'the house' -> 'The house')."""
    return s[:1].upper() + s[1:]


_PATTERNS: dict[str, "re.Pattern"] = {}


def name_pattern(name: str):
    """Regex for a whole-word occurrence of ``name`` (first letter in either case, for sentence starts; a one-letter
    name such as StepGame's "K" only in its own case, so that the article "a" is not the object "A")."""
    p = _PATTERNS.get(name)
    if p is None:
        import re
        first = re.escape(name) if len(name) == 1 else f"[{name[0].upper()}{name[0].lower()}]{re.escape(name[1:])}"
        p = _PATTERNS[name] = re.compile(rf"(?<![A-Za-z]){first}(?![A-Za-z])")
    return p


def mention_order(text: str, names: Sequence[str]) -> list[str]:
    """``names`` sorted by first occurrence in ``text`` (names that do not occur go last, in the given order)."""
    pos = {}
    for i, n in enumerate(names):
        m = name_pattern(n).search(text)
        pos[n] = (0, m.start()) if m else (1, i)
    return sorted(names, key=pos.__getitem__)
