"""Web-style documents for the `web_text_cleaning` recipe: clean encyclopedic paragraphs,
plus documents with the problems Gopher, C4 and FineWeb rules and dedup are made to catch.

Written for this project (public domain, CC0). Each document's `meta.kind` says what it is
(`clean` or the injected problem), so tests can check what a recipe removed.
"""

from __future__ import annotations

import random
from typing import Any

CLEAN = [
    ("The honeybee colony works as a single organism. Thousands of worker bees share the tasks "
    "of the hive, from cleaning cells and feeding larvae to guarding the entrance and "
    "collecting nectar. A worker changes jobs as it ages, and the oldest bees become foragers "
    "that fly several kilometres from home. Their waggle dance tells the others where the "
    "best flowers are, giving both the direction and the distance to the food."),
    ("Sourdough bread rises without any added yeast. Bakers keep a starter of flour and water "
    "in which wild yeasts and lactic acid bacteria live together. The bacteria give the bread "
    "its sour taste, while the yeasts produce the gas that lifts the dough. Because the "
    "starter works slowly, the dough is often left to ferment overnight, which also makes the "
    "crumb more open and the crust darker when it is baked."),
    ("Glaciers are rivers of ice that move under their own weight. Snow that survives the "
    "summer is buried by the next winter's snow and slowly pressed into dense ice. When the "
    "ice is thick enough, it begins to flow downhill, scraping the rock beneath it. Many of "
    "the deep lakes and steep valleys of northern Europe were carved in this way during the "
    "last ice age, when glaciers covered much of the continent."),
    ("A lighthouse warns ships away from dangerous coasts. Early lighthouses burned wood or "
    "coal in an open fire at the top of a tower. Later designs used oil lamps and large glass "
    "lenses that gathered the light into a narrow beam visible far out at sea. Each lighthouse "
    "flashes in its own pattern, so a sailor who counts the seconds between flashes can tell "
    "exactly which part of the coast lies ahead."),
    ("The printing press changed how knowledge spread across Europe. Before it, books were "
    "copied by hand, which made them rare and expensive. With movable metal type, a workshop "
    "could produce hundreds of identical pages in a day. Within a few decades, presses were "
    "running in most large cities, and pamphlets, maps and scientific works reached readers "
    "who had never been able to afford a book before."),
    ("Tides are caused mainly by the pull of the moon on the oceans. The water on the side of "
    "the earth facing the moon is pulled towards it, and a second bulge forms on the opposite "
    "side. As the earth turns, a coast passes through both bulges, which is why most places "
    "see two high tides a day. When the sun and moon line up, their pulls add together and "
    "the tides are larger than usual."),
    ("Composting turns kitchen scraps and garden waste into rich soil. Microbes break down the "
    "material, and they work best with a mix of green waste, such as vegetable peelings and "
    "grass, and brown waste, such as dry leaves and cardboard. Turning the heap lets in air "
    "and keeps it from smelling. After a few months the compost becomes dark and crumbly and "
    "can be spread on flower beds to feed the plants."),
    ("The violin has four strings tuned a fifth apart. Its body is carved from thin plates of "
    "spruce and maple, and the shape of the arches decides much of its sound. A player draws a "
    "bow strung with horsehair across the strings, and rosin on the hair helps it grip. By "
    "pressing the strings against the fingerboard, the player shortens them and raises the "
    "pitch, which allows smooth slides between notes that a piano cannot make."),
    ("Migratory birds travel thousands of kilometres each year between their breeding grounds "
    "and the places where they spend the winter. Many of them fly at night and find their way "
    "using the stars, the setting sun and the magnetic field of the earth. Before the journey "
    "they eat much more than usual and store fat as fuel. Some small songbirds cross deserts "
    "and seas without stopping, losing almost half their weight on the way."),
    ("Concrete is one of the most widely used materials in the world. It is made by mixing "
    "cement, sand, gravel and water, which react and harden into a kind of artificial stone. "
    "Concrete is strong when pressed but weak when pulled, so builders place steel bars inside "
    "it to carry the tension. The Romans made a durable concrete from volcanic ash, and some "
    "of their harbours and domes are still standing today."),
    ("A solar eclipse happens when the moon passes between the earth and the sun. For a few "
    "minutes, the moon covers the bright disc of the sun and the sky grows dark enough to see "
    "the brightest stars. Only a narrow strip of the earth lies in the full shadow, so most "
    "people see a partial eclipse instead. Looking at the sun without proper filters can "
    "damage the eyes, even when most of it is hidden."),
    ("Tea comes from the leaves of a single plant, but it is processed in many ways. For green "
    "tea, the leaves are heated soon after picking to stop them from changing. For black tea, "
    "they are rolled and left to oxidise until they turn dark, which gives a stronger flavour. "
    "Oolong lies between the two. The climate, the soil and the height of the garden also "
    "shape the taste of the tea in the cup."),
    ("Coral reefs are built by tiny animals called polyps. Each polyp takes calcium from the "
    "sea water and builds a hard skeleton around itself, and over thousands of years these "
    "skeletons pile up into huge reefs. Algae living inside the polyps make food from sunlight "
    "and give the coral its colour. When the water becomes too warm, the coral expels the "
    "algae and turns white, a change known as bleaching."),
    ("The bicycle became popular in the late nineteenth century, once the safety bicycle with "
    "two wheels of equal size and a chain drive replaced the tall penny farthing. Pneumatic "
    "tyres made the ride far more comfortable. Cheap and easy to maintain, the bicycle gave "
    "many workers their first way to travel beyond walking distance, and it played a part in "
    "the freedom of movement that women gained in that period."),
    ("Volcanoes form where molten rock from deep inside the earth reaches the surface. Some, "
    "like those of Hawaii, release runny lava that flows gently down wide slopes. Others hold "
    "thick, sticky magma full of gas, which can explode violently and throw ash high into the "
    "air. Volcanic soil is often very fertile, which is one reason why people have farmed on "
    "the slopes of active volcanoes for thousands of years."),
    ("Chess is played on a board of sixty four squares by two players who move in turn. Each "
    "side starts with sixteen pieces, and each kind of piece moves in its own way. The aim is "
    "to trap the opposing king so that it cannot escape capture. Although the rules can be "
    "learned in an afternoon, the number of possible games is so large that no two long games "
    "are likely to be exactly the same."),
    ("Paper was invented in China about two thousand years ago. Early paper makers soaked plant "
    "fibres such as bark and old rags in water, beat them into a pulp, and spread the pulp "
    "thinly on a screen to dry. The craft travelled along trade routes to the Middle East and "
    "then to Europe. Today most paper is made from wood pulp in large mills, and much of it is "
    "recycled several times before the fibres become too short."),
    ("Earthquakes happen when rocks along a fault suddenly slip past each other. The energy "
    "released travels through the ground as waves, which shake buildings and can trigger "
    "landslides. Scientists measure the size of an earthquake from the motion recorded by "
    "seismometers. Although they cannot predict the exact day of a large earthquake, they can "
    "map the faults and help cities plan buildings that bend instead of breaking."),
    ("The human heart beats about one hundred thousand times a day. It has four chambers: two "
    "receive blood and two pump it out. The right side sends blood to the lungs to pick up "
    "oxygen, and the left side pushes the oxygen rich blood around the rest of the body. "
    "Valves between the chambers close after each beat to keep the blood flowing in one "
    "direction, and their closing makes the familiar sound of the heartbeat."),
    ("Maps have always been shaped by the people who draw them. Because the earth is round, "
    "every flat map must stretch or squeeze some part of it. The common Mercator projection "
    "keeps the shapes of small areas correct, which made it useful for sailors, but it makes "
    "lands far from the equator look much larger than they are. Other projections keep areas "
    "correct at the cost of bending the shapes of the continents."),
    ("Cheese is made by curdling milk and separating the solid curds from the liquid whey. An "
    "enzyme called rennet, or an acid, makes the milk proteins clump together. The curds are "
    "then cut, salted, pressed into moulds and left to age. During ageing, bacteria and moulds "
    "change the texture and flavour, which is why a young cheese tastes mild while an old one "
    "can be sharp, crumbly and full of flavour."),
    ("Wind turbines turn the energy of moving air into electricity. The long blades are shaped "
    "like the wings of an aircraft, so the wind creates a force that makes them spin. The "
    "rotating shaft drives a generator at the top of the tower. Turbines are often grouped "
    "together in wind farms on hills or out at sea, where the wind is stronger and steadier "
    "than it is close to towns and forests."),
    ("Libraries have kept and shared books for thousands of years. The ancient library of "
    "Alexandria tried to collect a copy of every book in the known world. Modern public "
    "libraries lend books for free and also offer newspapers, music, computers and quiet "
    "places to study. Librarians organise the collection with classification systems, so that "
    "books on the same subject stand next to each other on the shelves."),
    ("Salt has been valued by people since ancient times. It was used to preserve meat and fish "
    "long before refrigerators existed, and in some places it was so precious that it served "
    "as money. Salt is gathered by letting sea water evaporate in shallow ponds, or by mining "
    "thick layers of rock salt left behind when ancient seas dried up. Our bodies need a small "
    "amount of it to keep nerves and muscles working."),
]

_BOILERPLATE = [
    ("c4_javascript",
     ("Please enable JavaScript in your browser to view this page.\n"
     "This site uses cookies to improve your experience. By continuing you accept our cookie "
     "policy.\nJavascript is required for the interactive map.\n")),
    ("c4_lorem",
     ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
     "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
     "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure "
     "dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur.")),
    ("c4_code",
     ("function toggleMenu() { var menu = document.getElementById('menu'); if (menu.style."
     "display === 'none') { menu.style.display = 'block'; } else { menu.style.display = "
     "'none'; } } window.onload = function () { toggleMenu(); };")),
]

_SPAM_LINES = ["Buy cheap watches online now!", "Best prices guaranteed, order today!",
               "Click here for free shipping!", "Limited offer, do not miss out!"]
_NAV = ["Home", "About us", "Products", "Contact", "Login", "Cart", "Help", "Sitemap",
        "Privacy", "Terms"]


def _repeated_lines(rng: random.Random) -> str:
    lines = [rng.choice(_SPAM_LINES) for _ in range(24)]
    return "\n".join(lines)


def _bullets(rng: random.Random) -> str:
    items = rng.sample(CLEAN, 3)
    return "\n".join(f"- {text.split('. ')[0]}." for text in items) + "\n- " + \
        "\n- ".join(rng.sample(_NAV, 8))


def _short(rng: random.Random) -> str:
    return rng.choice(CLEAN).split(". ")[0] + "."


def _symbols(rng: random.Random) -> str:
    words = rng.choice(CLEAN).split()[:40]
    return " ".join(f"#{word.strip('.,')} #trending #viral" for word in words)


def _ellipsis(rng: random.Random) -> str:
    return "\n".join(sentence.strip().rstrip(".") + " ..." for sentence in
                     " ".join(rng.sample(CLEAN, 2)).split(". "))


def _numbers(rng: random.Random) -> str:
    return "\n".join(" ".join(str(rng.randint(100, 99999)) for _ in range(8)) + " ."
                     for _ in range(12))


def _navigation(rng: random.Random) -> str:
    return "\n".join(rng.sample(_NAV, len(_NAV)) * 2)


def _near_duplicate(rng: random.Random, text: str) -> str:
    """Change about one word in forty: word 5-gram Jaccard stays around 0.8."""
    words = text.split()
    for position in rng.sample(range(len(words)), max(1, len(words) // 40)):
        words[position] = rng.choice(["really", "often", "also", "very", "quite"])
    return " ".join(words)


def _exact_duplicate(text: str) -> str:
    """The same text after normalisation: other case and spacing."""
    return "  " + text.upper().replace(". ", ".   ") + "\n"


_GENERATED = [("gopher_repetition", _repeated_lines), ("gopher_bullets", _bullets),
              ("too_short", _short), ("gopher_symbols", _symbols),
              ("gopher_ellipsis", _ellipsis), ("gopher_non_alpha", _numbers),
              ("fineweb_short_lines", _navigation)]


def build_web_docs(rng: random.Random) -> list[dict[str, Any]]:
    """Clean documents (two paragraphs each, enough sentences for C4), then two of each
    generated problem, boilerplate, and near and exact copies of clean documents."""
    clean = ["\n\n".join(CLEAN[i:i + 2]) for i in range(0, len(CLEAN), 2)]
    docs: list[tuple[str, str]] = [("clean", text) for text in clean]
    for kind, make in _GENERATED:
        docs += [(kind, make(rng)) for _ in range(2)]
    docs += _BOILERPLATE
    docs += [("near_duplicate", _near_duplicate(rng, text)) for text in rng.sample(clean, 3)]
    docs += [("exact_duplicate", _exact_duplicate(text)) for text in rng.sample(clean, 3)]
    order = list(range(len(clean), len(docs)))
    rng.shuffle(order)
    docs = docs[:len(clean)] + [docs[i] for i in order]  # originals before their copies
    return [{"id": f"web-{number:03d}", "text": text,
             "url": f"https://example.org/page/{number}", "meta": {"kind": kind}}
            for number, (kind, text) in enumerate(docs, start=1)]
