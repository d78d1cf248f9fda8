"""Hand-written facts and texts the sample generator draws from.

Everything here was written for this project (public domain, CC0). Facts are chosen to be
unambiguous; each `wrong` column holds a plausible mistake used for rejected answers.
"""

from __future__ import annotations

# (country, capital, continent of the capital, a plausible wrong capital)
CAPITALS = [
    ("France", "Paris", "Europe", "Lyon"),
    ("Germany", "Berlin", "Europe", "Munich"),
    ("Italy", "Rome", "Europe", "Milan"),
    ("Spain", "Madrid", "Europe", "Barcelona"),
    ("Portugal", "Lisbon", "Europe", "Porto"),
    ("Japan", "Tokyo", "Asia", "Osaka"),
    ("China", "Beijing", "Asia", "Shanghai"),
    ("India", "New Delhi", "Asia", "Mumbai"),
    ("Canada", "Ottawa", "North America", "Toronto"),
    ("Australia", "Canberra", "Oceania", "Sydney"),
    ("Brazil", "Brasília", "South America", "Rio de Janeiro"),
    ("Argentina", "Buenos Aires", "South America", "Córdoba"),
    ("Mexico", "Mexico City", "North America", "Guadalajara"),
    ("Egypt", "Cairo", "Africa", "Alexandria"),
    ("Kenya", "Nairobi", "Africa", "Mombasa"),
    ("Nigeria", "Abuja", "Africa", "Lagos"),
    ("Russia", "Moscow", "Europe", "Saint Petersburg"),
    ("Turkey", "Ankara", "Asia", "Istanbul"),
    ("Greece", "Athens", "Europe", "Thessaloniki"),
    ("Norway", "Oslo", "Europe", "Bergen"),
    ("Sweden", "Stockholm", "Europe", "Gothenburg"),
    ("Finland", "Helsinki", "Europe", "Tampere"),
    ("Denmark", "Copenhagen", "Europe", "Aarhus"),
    ("Poland", "Warsaw", "Europe", "Kraków"),
    ("Austria", "Vienna", "Europe", "Salzburg"),
    ("Switzerland", "Bern", "Europe", "Zurich"),
    ("Ireland", "Dublin", "Europe", "Cork"),
    ("the United Kingdom", "London", "Europe", "Manchester"),
    ("the United States", "Washington, D.C.", "North America", "New York City"),
    ("South Korea", "Seoul", "Asia", "Busan"),
    ("Thailand", "Bangkok", "Asia", "Chiang Mai"),
    ("Vietnam", "Hanoi", "Asia", "Ho Chi Minh City"),
    ("the Philippines", "Manila", "Asia", "Cebu City"),
    ("Pakistan", "Islamabad", "Asia", "Karachi"),
    ("Iran", "Tehran", "Asia", "Isfahan"),
    ("Saudi Arabia", "Riyadh", "Asia", "Jeddah"),
    ("Morocco", "Rabat", "Africa", "Casablanca"),
    ("Ghana", "Accra", "Africa", "Kumasi"),
    ("Ethiopia", "Addis Ababa", "Africa", "Dire Dawa"),
    ("Peru", "Lima", "South America", "Cusco"),
    ("Chile", "Santiago", "South America", "Valparaíso"),
    ("Colombia", "Bogotá", "South America", "Medellín"),
    ("Venezuela", "Caracas", "South America", "Maracaibo"),
    ("New Zealand", "Wellington", "Oceania", "Auckland"),
    ("Hungary", "Budapest", "Europe", "Debrecen"),
    ("the Czech Republic", "Prague", "Europe", "Brno"),
    ("Belgium", "Brussels", "Europe", "Antwerp"),
    ("Cuba", "Havana", "North America", "Santiago de Cuba"),
    ("Iceland", "Reykjavík", "Europe", "Akureyri"),
]

# Countries that lie on one continent (the continent column of Russia and Turkey names
# where their capitals are, so continent questions leave them out).
ONE_CONTINENT = [row for row in CAPITALS if row[0] not in ("Russia", "Turkey")]

# (word, antonym, a related word that is NOT its antonym)
ANTONYMS = [
    ("hot", "cold", "warm"), ("big", "small", "large"), ("happy", "sad", "cheerful"),
    ("fast", "slow", "quick"), ("early", "late", "prompt"), ("open", "closed", "ajar"),
    ("full", "empty", "packed"), ("strong", "weak", "sturdy"), ("rich", "poor", "wealthy"),
    ("young", "old", "youthful"), ("ancient", "modern", "old"), ("brave", "cowardly", "bold"),
    ("generous", "selfish", "kind"), ("accept", "reject", "receive"),
    ("increase", "decrease", "grow"), ("arrive", "depart", "reach"),
    ("victory", "defeat", "triumph"), ("shallow", "deep", "low"), ("wide", "narrow", "broad"),
    ("loud", "quiet", "noisy"), ("clean", "dirty", "tidy"), ("true", "false", "accurate"),
    ("buy", "sell", "purchase"), ("push", "pull", "shove"), ("above", "below", "over"),
    ("begin", "end", "start"), ("inside", "outside", "within"),
    ("expensive", "cheap", "costly"), ("visible", "invisible", "clear"),
    ("maximum", "minimum", "peak"), ("ascend", "descend", "climb"), ("borrow", "lend", "take"),
    ("friend", "enemy", "companion"), ("polite", "rude", "courteous"),
    ("rough", "smooth", "coarse"), ("thick", "thin", "dense"), ("tight", "loose", "snug"),
    ("wet", "dry", "damp"), ("asleep", "awake", "drowsy"), ("heavy", "light", "bulky"),
    ("remember", "forget", "recall"), ("include", "exclude", "contain"),
    ("success", "failure", "achievement"), ("question", "answer", "query"),
    ("absent", "present", "missing"),
]

# (word, synonym)
SYNONYMS = [
    ("happy", "joyful"), ("big", "large"), ("quick", "fast"), ("begin", "start"),
    ("difficult", "hard"), ("smart", "intelligent"), ("tired", "exhausted"), ("small", "tiny"),
    ("help", "assist"), ("buy", "purchase"), ("end", "finish"), ("shut", "close"),
    ("answer", "reply"), ("choose", "select"), ("gift", "present"), ("rich", "wealthy"),
    ("sick", "ill"), ("hide", "conceal"), ("famous", "well-known"), ("brave", "courageous"),
    ("calm", "peaceful"), ("funny", "amusing"), ("angry", "furious"), ("often", "frequently"),
]

# (word, definition); definitions start lower-case and have no final full stop.
DEFINITIONS = [
    ("ephemeral", "lasting for a very short time"),
    ("benevolent", "well-meaning and kind"),
    ("ubiquitous", "present, appearing or found everywhere"),
    ("meticulous", "showing great attention to detail; very careful and precise"),
    ("candid", "truthful and straightforward; frank"),
    ("resilient", "able to recover quickly from difficult conditions"),
    ("ambiguous", "open to more than one interpretation; not clear"),
    ("frugal", "careful and economical with money or resources"),
    ("verbose", "using more words than are needed"),
    ("lucid", "expressed clearly and easy to understand"),
    ("obsolete", "no longer produced or used; out of date"),
    ("pragmatic", ("dealing with things sensibly and realistically, based on practical "
                  "considerations")),
    ("tenacious", "holding firmly to a goal or opinion; persistent"),
    ("diligent", "showing care and steady effort in one's work or duties"),
    ("eloquent", "fluent and persuasive in speaking or writing"),
    ("nostalgia", "a sentimental longing for a period in the past"),
    ("photosynthesis", ("the process by which green plants use sunlight, water and carbon "
                       "dioxide to make glucose and release oxygen")),
    ("metaphor", "a figure of speech that describes something by saying it is something else"),
    ("catalyst", "a substance that speeds up a chemical reaction without being used up itself"),
    ("democracy", ("a system of government in which power is held by the people, usually "
                  "through elected representatives")),
    ("inflation", "a general rise in prices that reduces what a unit of money can buy"),
    ("algorithm", "a step-by-step set of rules for solving a problem or completing a task"),
    ("habitat", "the natural home or environment of an animal, plant or other organism"),
    ("hypothesis", "a proposed explanation that can be tested by further investigation"),
    ("empathy", "the ability to understand and share the feelings of another person"),
    ("procrastinate", "to delay or put off doing something"),
    ("symbiosis", "a close, long-term interaction between two different species"),
    ("archipelago", "a group of islands"),
    ("anonymous", "of unknown name or identity"),
    ("itinerary", "a planned route or schedule for a journey"),
]

# (element, symbol, atomic number, a wrong symbol)
ELEMENTS = [
    ("hydrogen", "H", 1, "Hy"), ("helium", "He", 2, "H"), ("carbon", "C", 6, "Ca"),
    ("nitrogen", "N", 7, "Ni"), ("oxygen", "O", 8, "Ox"), ("sodium", "Na", 11, "So"),
    ("magnesium", "Mg", 12, "Mn"), ("aluminium", "Al", 13, "Am"), ("silicon", "Si", 14, "Sc"),
    ("sulfur", "S", 16, "Su"), ("chlorine", "Cl", 17, "Ch"), ("potassium", "K", 19, "P"),
    ("calcium", "Ca", 20, "C"), ("iron", "Fe", 26, "Ir"), ("copper", "Cu", 29, "Co"),
    ("zinc", "Zn", 30, "Zi"), ("silver", "Ag", 47, "Si"), ("tin", "Sn", 50, "Ti"),
    ("gold", "Au", 79, "Ag"), ("mercury", "Hg", 80, "Me"), ("lead", "Pb", 82, "Le"),
    ("uranium", "U", 92, "Ur"),
]

# (verb, past tense, the regularised mistake)
PAST_TENSES = [
    ("go", "went", "goed"), ("eat", "ate", "eated"), ("see", "saw", "seed"),
    ("take", "took", "taked"), ("write", "wrote", "writed"), ("run", "ran", "runned"),
    ("swim", "swam", "swimmed"), ("begin", "began", "beginned"), ("bring", "brought", "bringed"),
    ("buy", "bought", "buyed"), ("think", "thought", "thinked"), ("teach", "taught", "teached"),
    ("catch", "caught", "catched"), ("fly", "flew", "flied"), ("drink", "drank", "drinked"),
    ("speak", "spoke", "speaked"), ("choose", "chose", "choosed"), ("freeze", "froze", "freezed"),
    ("drive", "drove", "drived"), ("sing", "sang", "singed"),
]

# (singular, plural, the regularised mistake)
PLURALS = [
    ("child", "children", "childs"), ("mouse", "mice", "mouses"), ("goose", "geese", "gooses"),
    ("foot", "feet", "foots"), ("tooth", "teeth", "tooths"), ("axis", "axes", "axises"),
    ("man", "men", "mans"), ("woman", "women", "womans"), ("ox", "oxen", "oxes"),
    ("leaf", "leaves", "leafs"), ("knife", "knives", "knifes"), ("wolf", "wolves", "wolfs"),
    ("sheep", "sheep", "sheeps"), ("crisis", "crises", "crisises"),
    ("phenomenon", "phenomena", "phenomenons"), ("criterion", "criteria", "criterions"),
]

# (animal, class, a wrong class)
ANIMALS = [
    ("dolphin", "mammal", "fish"), ("bat", "mammal", "bird"), ("penguin", "bird", "mammal"),
    ("ostrich", "bird", "mammal"), ("crocodile", "reptile", "amphibian"),
    ("turtle", "reptile", "amphibian"), ("salmon", "fish", "amphibian"),
    ("shark", "fish", "mammal"), ("frog", "amphibian", "reptile"),
    ("salamander", "amphibian", "reptile"), ("whale", "mammal", "fish"),
    ("eagle", "bird", "reptile"), ("snake", "reptile", "amphibian"), ("tuna", "fish", "mammal"),
]

# (question, concise correct answer, a wrong answer in the same style)
FACTS = [
    ("How many planets are in our solar system?", "There are eight planets in our solar system.",
     "There are nine planets in our solar system."),
    ("Which planet is the largest in our solar system?", "Jupiter is the largest planet.",
     "Saturn is the largest planet."),
    ("Which planet is closest to the Sun?", "Mercury is the planet closest to the Sun.",
     "Venus is the planet closest to the Sun."),
    ("Which planet is known as the Red Planet?", "Mars is known as the Red Planet.",
     "Jupiter is known as the Red Planet."),
    ("At what temperature does water boil at sea level, in degrees Celsius?",
     "Water boils at 100 °C at sea level.", "Water boils at 90 °C at sea level."),
    ("At what temperature does water freeze, in degrees Fahrenheit?",
     "Water freezes at 32 °F.", "Water freezes at 0 °F."),
    ("How many days are there in a leap year?", "A leap year has 366 days.",
     "A leap year has 365 days."),
    ("How many sides does a hexagon have?", "A hexagon has six sides.",
     "A hexagon has eight sides."),
    ("How many minutes are there in a day?", "There are 1,440 minutes in a day.",
     "There are 1,240 minutes in a day."),
    ("How many hours are there in a week?", "There are 168 hours in a week.",
     "There are 148 hours in a week."),
    ("Who wrote the play Romeo and Juliet?", "William Shakespeare wrote Romeo and Juliet.",
     "Charles Dickens wrote Romeo and Juliet."),
    ("What is the chemical formula of water?", "The chemical formula of water is H2O.",
     "The chemical formula of water is HO2."),
    ("How many bones are in the adult human body?", "An adult human has 206 bones.",
     "An adult human has 212 bones."),
    ("Which gas do plants take in from the air for photosynthesis?",
     "Plants take in carbon dioxide for photosynthesis.",
     "Plants take in oxygen for photosynthesis."),
    ("What is the largest ocean on Earth?", "The Pacific Ocean is the largest ocean on Earth.",
     "The Atlantic Ocean is the largest ocean on Earth."),
    ("How many legs does a spider have?", "A spider has eight legs.", "A spider has six legs."),
    ("How many degrees are in a right angle?", "A right angle measures 90 degrees.",
     "A right angle measures 180 degrees."),
    ("What is the longest river in South America?",
     "The Amazon is the longest river in South America.",
     "The Orinoco is the longest river in South America."),
    ("How many strings does a standard guitar have?", "A standard guitar has six strings.",
     "A standard guitar has five strings."),
    ("What is the hardest natural substance?", "Diamond is the hardest natural substance.",
     "Quartz is the hardest natural substance."),
    ("How many weeks are there in a year?", "There are 52 weeks in a year, plus one or two days.",
     "There are 48 weeks in a year, plus one or two days."),
    ("Which organ pumps blood around the human body?", "The heart pumps blood around the body.",
     "The liver pumps blood around the body."),
]

# (text, label)
SENTIMENT = [
    ("The pasta was delicious and the staff were incredibly friendly.", "Positive"),
    ("I waited forty minutes and my order was still wrong.", "Negative"),
    ("The package arrived on Tuesday.", "Neutral"),
    ("This is the most comfortable pair of shoes I have ever owned.", "Positive"),
    ("The battery dies after two hours, which is very disappointing.", "Negative"),
    ("The meeting has been moved to the second floor.", "Neutral"),
    ("What a beautiful view from the hotel balcony!", "Positive"),
    ("The instructions were confusing and half the screws were missing.", "Negative"),
    ("The store opens at nine in the morning.", "Neutral"),
    ("I loved every minute of the concert.", "Positive"),
    ("The app crashes every time I try to log in.", "Negative"),
    ("The book has twelve chapters.", "Neutral"),
    ("Our guide was knowledgeable, funny and patient with the kids.", "Positive"),
    ("The room smelled of smoke and the sheets were stained.", "Negative"),
]

# (incorrect sentence, corrected sentence)
GRAMMAR = [
    ("She don't like apples.", "She doesn't like apples."),
    ("Me and him went to the store.", "He and I went to the store."),
    ("Their going to the park later.", "They're going to the park later."),
    ("I have went there before.", "I have gone there before."),
    ("The dog wagged it's tail.", "The dog wagged its tail."),
    ("He runned to the bus stop.", "He ran to the bus stop."),
    ("There is many reasons to stay.", "There are many reasons to stay."),
    ("Each of the students have a book.", "Each of the students has a book."),
    ("I seen that movie last week.", "I saw that movie last week."),
    ("She is more taller than her brother.", "She is taller than her brother."),
    ("We was late for the meeting.", "We were late for the meeting."),
    ("Your the best friend I have.", "You're the best friend I have."),
    ("The childs played in the garden.", "The children played in the garden."),
    ("He don't know nothing about it.", "He doesn't know anything about it."),
    ("Between you and I, the plan is risky.", "Between you and me, the plan is risky."),
]

# (passive sentence, active sentence)
PASSIVE = [
    ("The cake was baked by my grandmother.", "My grandmother baked the cake."),
    ("The letter was written by Sarah.", "Sarah wrote the letter."),
    ("The window was broken by the storm.", "The storm broke the window."),
    ("The song was sung by the choir.", "The choir sang the song."),
    ("The report will be reviewed by the manager.", "The manager will review the report."),
    ("The ball was kicked by the boy.", "The boy kicked the ball."),
    ("The house was painted by the volunteers.", "The volunteers painted the house."),
    ("The decision was made by the committee.", "The committee made the decision."),
]

# (informal, formal)
FORMAL = [
    ("Hey, can u send me the file asap?",
     "Hello, could you please send me the file as soon as possible?"),
    ("Sorry, I can't make it to the meeting, something came up.",
     "I apologise, but I am unable to attend the meeting because of an unexpected commitment."),
    ("Thanks a ton for helping out yesterday!", "Thank you very much for your help yesterday."),
    ("The new software is kinda confusing.", "The new software is somewhat difficult to use."),
    ("Gonna be late, traffic is crazy.", "I will be late because of heavy traffic."),
    ("Can you check this out and tell me what you think?",
     "Could you please review this and share your thoughts?"),
    ("We need to get this done by Friday, no excuses.", "This task must be completed by Friday."),
    ("I dunno if the plan will work.", "I am not certain that the plan will succeed."),
]

# (paragraph, one-sentence summary)
SUMMARIES = [
    (("Honeybees live in colonies that can contain tens of thousands of insects. A single queen "
     "lays the eggs, worker bees gather nectar and pollen, build the wax comb and care for the "
     "young, and male drones exist mainly to mate with a queen. In winter the workers cluster "
     "together and shiver their flight muscles to keep the hive warm."),
     ("A honeybee colony divides its work between a queen, workers and drones, and the workers "
     "keep the hive warm in winter.")),
    (("The town library has started lending more than books. Residents can now borrow "
     "gardening tools, board games, sewing machines and even telescopes for up to two weeks. "
     "The librarians say the new collection has brought in many people who had not visited "
     "in years, and they plan to add camping gear next spring."),
     ("The town library now lends tools, games and equipment, which has attracted many new "
     "visitors.")),
    (("Regular walking is one of the simplest ways to improve health. A brisk thirty-minute "
     "walk most days can strengthen the heart, help control weight and lift mood. It needs no "
     "special equipment or membership, and it can be fitted into daily life by walking to the "
     "shops or taking the stairs instead of the lift."),
     "Brisk daily walking is a cheap and easy way to improve heart health, weight and mood."),
    (("Early maps were often drawn from travellers' descriptions rather than careful "
     "measurement, so coastlines were distorted and whole regions were left blank. As "
     "instruments such as the compass and later satellite imaging improved, maps became far "
     "more accurate, and today anyone with a phone can see their position to within a few "
     "metres."),
     ("Maps have grown from rough sketches based on travellers' stories into highly accurate "
     "tools thanks to better instruments.")),
    (("Composting turns kitchen scraps and garden waste into a dark, crumbly material that "
     "enriches soil. Microorganisms break down the material, and they work best when the "
     "heap has a mix of green waste such as vegetable peelings and brown waste such as dry "
     "leaves, along with some air and moisture. A well-kept heap can be ready in a few months."),
     ("Composting uses microorganisms to turn a balanced mix of green and brown waste into "
     "rich soil within a few months.")),
    (("The school's science fair drew more than eighty projects this year. Students tested "
     "which paper towels absorb the most water, built model bridges from spaghetti and "
     "measured how music affects plant growth. The judges praised the careful record keeping "
     "and said the best projects asked a clear question and tested it fairly."),
     ("This year's science fair had over eighty projects, and the judges valued clear "
     "questions and fair tests.")),
]

# (question, answer): short how-to answers.
HOWTO = [
    ("How do I boil an egg?",
     ("Place the egg in a saucepan and cover it with cold water by about two centimetres. Bring "
     "the water to a boil over medium-high heat, then lower the heat so it simmers. Cook for "
     "about 6 minutes for a soft yolk or 9 to 10 minutes for a hard-boiled egg. Move the egg to "
     "a bowl of cold water for a few minutes so it stops cooking and is easier to peel.")),
    ("How can I improve my sleep?",
     ("Go to bed and get up at the same time every day, even at weekends. Keep your bedroom "
     "cool, dark and quiet, and avoid screens for the last hour before bed. Cut down on "
     "caffeine after lunch and avoid heavy meals late in the evening. Regular exercise helps, "
     "but finish intense workouts a few hours before bedtime. If you cannot fall asleep after "
     "about twenty minutes, get up and do something calm until you feel sleepy.")),
    ("How do I make a cup of tea?",
     ("Boil fresh water. Warm the cup or pot with a little of the hot water and pour it away. "
     "Put in one tea bag or a teaspoon of loose tea per cup, pour on the boiling water and "
     "let it brew for three to five minutes, depending on how strong you like it. Remove the "
     "tea bag or strain the leaves, then add milk, sugar or lemon to taste.")),
    ("How do I fix a flat bicycle tyre?",
     ("Remove the wheel from the bike and let out any remaining air. Use tyre levers to ease "
     "one side of the tyre off the rim and pull out the inner tube. Pump a little air into "
     "the tube and listen or feel for the leak, then patch it or use a new tube. Check the "
     "inside of the tyre for thorns or glass. Fit the tube back in, push the tyre onto the "
     "rim with your thumbs, inflate it to the pressure printed on the tyre and refit the "
     "wheel.")),
    ("How can I save money on groceries?",
     ("Plan your meals for the week and write a shopping list before you go, then stick to it. "
     "Check what you already have so you do not buy duplicates. Compare unit prices rather "
     "than package prices, and consider store brands, which are often cheaper for the same "
     "quality. Buy fruit and vegetables that are in season, cook larger batches and freeze "
     "portions, and avoid shopping when you are hungry.")),
    ("How do I write a good cover letter?",
     ("Address the letter to a named person if you can find one. Open with the job you are "
     "applying for and one sentence on why you are a strong fit. In the middle, give two or "
     "three concrete examples of achievements that match the job description, with results "
     "where possible. Close by thanking the reader and saying you would welcome an interview. "
     "Keep it to one page and proofread it carefully.")),
    ("How do I start learning the guitar?",
     ("Start with a comfortable, properly tuned guitar and learn to hold it and the pick "
     "correctly. Practise a few basic open chords such as G, C, D and E minor, and work on "
     "switching between them slowly and cleanly. Use a metronome to keep steady time. Learn "
     "simple songs that use the chords you know, and practise for fifteen to thirty minutes a "
     "day rather than for hours once a week.")),
    ("How can I reduce stress at work?",
     ("Make a list of your tasks each morning and tackle the most important one first. Break "
     "large projects into smaller steps with their own deadlines. Take short breaks away from "
     "your screen, and get outside for a walk at lunchtime if you can. Say no or ask for help "
     "when your workload is too heavy, and try to keep work messages out of your evenings.")),
    ("How do I care for a houseplant?",
     ("Find out how much light your plant needs and place it accordingly. Water it when the "
     "top few centimetres of soil feel dry, and make sure the pot has drainage holes so the "
     "roots do not sit in water. Feed it with a diluted fertiliser during spring and summer. "
     "Wipe dust off the leaves now and then, and move it to a slightly larger pot when roots "
     "start growing out of the bottom.")),
    ("How do I back up the files on my computer?",
     ("Decide which folders matter most, such as documents and photos. Copy them to an "
     "external drive, or use a cloud storage service that syncs them automatically. Most "
     "operating systems also include a backup tool that can run on a schedule. A good rule is "
     "to keep three copies of important files, on two different kinds of storage, with one "
     "copy kept somewhere else. Test now and then that you can actually restore a file.")),
    ("How should I prepare for a job interview?",
     ("Research the company, its products and its recent news. Reread the job description and "
     "prepare short stories from your experience that show the skills it asks for. Practise "
     "answering common questions out loud, and prepare two or three questions of your own "
     "to ask. Plan your route, choose your clothes the day before and aim to arrive ten "
     "minutes early.")),
    ("How do I make a simple monthly budget?",
     ("Add up your take-home income for the month. List your fixed costs, such as rent, bills "
     "and loan payments, then estimate variable costs like food, transport and fun. Subtract "
     "your total costs from your income. If the result is negative, look for costs to cut; if "
     "it is positive, decide how much to save. Track your spending during the month and "
     "adjust the budget next month.")),
    ("How can I learn new vocabulary in a foreign language?",
     ("Learn words in context, from sentences, songs and short texts, rather than from long "
     "isolated lists. Use flashcards with spaced repetition so that you review each word just "
     "before you would forget it. Say new words out loud and use them in your own sentences. "
     "Group related words together, and aim for a small number of new words every day.")),
    ("How do I clean a cast-iron pan?",
     ("Clean the pan while it is still warm. Rinse it with hot water and scrub off food with a "
     "brush or a paste of coarse salt and a little water. A small amount of mild soap is fine, "
     "but never soak the pan or put it in the dishwasher. Dry it completely on the hob, then "
     "rub a thin layer of oil over the inside to protect the seasoning.")),
    ("How do I write a clear email?",
     ("Use a subject line that says what the email is about. Put the main point or request in "
     "the first two sentences. Keep paragraphs short and use a list if you are asking several "
     "questions. Say clearly what you need and by when. Read the email once before sending to "
     "check names, dates and attachments.")),
    ("How do I start running as a beginner?",
     ("Get a pair of comfortable running shoes. Begin with walk-run intervals, for example "
     "one minute of easy running followed by two minutes of walking, repeated for twenty "
     "minutes. Run three times a week with a rest day in between. Each week, lengthen the "
     "running parts a little. Run at a pace where you could still hold a conversation, and "
     "stop if you feel sharp pain.")),
    ("How do I remove a coffee stain from a shirt?",
     ("Act quickly. Blot the stain with a clean cloth, without rubbing, to lift as much coffee "
     "as possible. Rinse the back of the fabric under cold running water. Rub a little liquid "
     "laundry detergent into the stain and leave it for five minutes, then wash the shirt as "
     "usual. Check that the stain has gone before putting the shirt in the dryer, because heat "
     "can set it.")),
    ("How can I keep my passwords safe?",
     ("Use a different password for every account, so that one leak does not expose the "
     "others. Make passwords long; a phrase of several random words works well. A password "
     "manager can create and remember them for you. Turn on two-factor authentication "
     "wherever it is offered, and never share a password in an email or a text message.")),
    ("How do I plant tomato seedlings?",
     ("Wait until there is no longer any risk of frost. Choose a sunny spot and dig in some "
     "compost. Plant each seedling deeper than it sat in its pot, burying part of the stem, "
     "because tomatoes grow roots along the buried stem. Space plants about half a metre "
     "apart, water them well and put in a stake or cage for support while they are small.")),
    ("How can I give a short presentation confidently?",
     ("Know your opening and closing lines by heart, since those are when nerves are worst. "
     "Build the talk around three main points and use simple slides with few words. Rehearse "
     "out loud several times, ideally in front of a friend, and time yourself. On the day, "
     "breathe slowly, look at a few friendly faces and pause instead of saying um.")),
    ("How do I make my phone battery last longer?",
     ("Lower the screen brightness or turn on automatic brightness. Turn off location, "
     "Bluetooth and Wi-Fi when you are not using them. Check which apps use the most battery "
     "in the settings and limit their background activity. Use the battery saver mode when "
     "you are running low, and avoid leaving the phone in very hot places.")),
    ("How do I unclog a kitchen sink?",
     ("Remove any standing water and food you can reach. Pour a kettle of hot, but not "
     "boiling, water down the drain, then try a cup-shaped plunger, pressing firmly several "
     "times. If that does not work, put a bucket under the U-shaped trap, unscrew it and clean "
     "it out. Avoid pouring fat down the sink in future, because it hardens in the pipes.")),
]

# (question, answer): short explanations of ideas.
CONCEPTS = [
    ("Why is the sky blue?",
     ("Sunlight contains all colours of light. When it passes through the atmosphere, it hits "
     "gas molecules that scatter short wavelengths, such as blue, much more strongly than "
     "long wavelengths, such as red. This is called Rayleigh scattering. The scattered blue "
     "light reaches our eyes from every direction, so the whole sky looks blue.")),
    ("What causes the seasons?",
     ("The seasons are caused by the tilt of Earth's axis, which is about 23.5 degrees. As "
     "Earth orbits the Sun, the hemisphere tilted towards the Sun gets more direct sunlight "
     "and longer days, which gives it summer. Six months later the same hemisphere is tilted "
     "away, the sunlight is weaker and the days are shorter, which gives it winter. The "
     "distance between Earth and the Sun is not the reason.")),
    ("How does a rainbow form?",
     ("A rainbow forms when sunlight shines on raindrops while the Sun is behind you. Each "
     "drop bends the light as it enters, reflects it off the back of the drop and bends it "
     "again as it leaves. Different colours bend by slightly different amounts, so the white "
     "light spreads out into red, orange, yellow, green, blue, indigo and violet.")),
    ("What is the water cycle?",
     ("The water cycle is the continuous movement of water on Earth. The Sun heats water in "
     "oceans, lakes and rivers, and it evaporates into water vapour. The vapour rises, cools "
     "and condenses into tiny droplets that form clouds. When the droplets grow heavy they "
     "fall as precipitation, such as rain or snow, and the water flows back into rivers and "
     "seas or soaks into the ground, where the cycle begins again.")),
    ("What is gravity?",
     ("Gravity is the force of attraction between any two objects that have mass. The more "
     "mass an object has, the stronger its pull, and the pull gets weaker with distance. "
     "Earth's gravity keeps us on the ground and makes dropped objects fall, and the Sun's "
     "gravity keeps the planets in their orbits.")),
    ("How do vaccines work?",
     ("A vaccine trains the immune system to recognise a germ without causing the disease. It "
     "contains a harmless part of the germ, a weakened or inactivated form of it, or "
     "instructions for making one of its proteins. The immune system responds by making "
     "antibodies and memory cells. If the real germ arrives later, the body recognises it and "
     "fights it off much faster.")),
    ("What is the difference between weather and climate?",
     ("Weather is the state of the atmosphere at a particular place and time: today's "
     "temperature, rain or wind. Climate is the average pattern of weather in a region over a "
     "long period, usually thirty years or more. A cold day is weather, while a region having "
     "cold winters year after year is part of its climate.")),
    ("What is compound interest?",
     ("Compound interest is interest calculated on both the original amount and the interest "
     "already added. For example, 100 dollars at 10 percent a year grows to 110 dollars "
     "after one year, and in the second year the 10 percent is paid on 110 dollars, giving "
     "121 dollars. Because the interest itself earns interest, savings grow faster over time "
     "than with simple interest.")),
    ("Why do we have day and night?",
     ("We have day and night because Earth spins on its axis, making one full turn about every "
     "24 hours. At any moment, the half of Earth facing the Sun has daytime and the half facing "
     "away has night. As Earth turns, places move from darkness into sunlight, which we see as "
     "sunrise, and back into darkness, which we see as sunset.")),
    ("What is an ecosystem?",
     ("An ecosystem is a community of living things, such as plants, animals and microbes, "
     "together with their physical environment, such as water, soil and climate. The parts "
     "are linked: plants capture energy from sunlight, animals eat plants or other animals, "
     "and decomposers return nutrients to the soil. A pond, a forest and a coral reef are all "
     "ecosystems.")),
    ("What is a prime number?",
     ("A prime number is a whole number greater than 1 that has exactly two divisors: 1 and "
     "itself. The first few primes are 2, 3, 5, 7, 11 and 13. The number 2 is the only even "
     "prime. A whole number greater than 1 that is not prime, such as 12, is called a "
     "composite number.")),
    ("What is the difference between a virus and a bacterium?",
     ("A bacterium is a single living cell that can grow and divide on its own, and many "
     "bacteria are harmless or even helpful. A virus is much smaller and is not a cell; it "
     "can only reproduce by getting inside a host cell and using it to make copies of itself. "
     "Antibiotics can treat bacterial infections but do not work against viruses.")),
    ("How does a refrigerator keep food cold?",
     ("A refrigerator moves heat from the inside to the outside. A liquid called a refrigerant "
     "flows through pipes inside the fridge and evaporates, absorbing heat from the food. A "
     "compressor then squeezes the vapour, which heats it up, and the coils at the back "
     "release that heat into the room as the refrigerant turns back into a liquid. The cycle "
     "repeats to keep the inside cold.")),
    ("What is supply and demand?",
     ("Supply and demand describes how prices are set in a market. Supply is how much of a "
     "product sellers are willing to sell at each price, and demand is how much buyers want "
     "to buy at each price. When demand rises and supply stays the same, prices tend to go "
     "up; when supply rises and demand stays the same, prices tend to fall.")),
    ("What is the greenhouse effect?",
     ("The greenhouse effect is the way certain gases in the atmosphere, such as carbon "
     "dioxide, methane and water vapour, trap heat. Sunlight warms Earth's surface, and the "
     "surface gives off heat as infrared radiation. Greenhouse gases absorb some of this heat "
     "and send part of it back down, keeping the planet warmer than it would otherwise be. "
     "Adding more of these gases strengthens the effect.")),
    ("What is a noun?",
     ("A noun is a word that names a person, place, thing or idea. For example, teacher, "
     "London, bicycle and happiness are all nouns. Common nouns name general things, such as "
     "city, while proper nouns name specific ones, such as Paris, and begin with a capital "
     "letter.")),
    ("What is a black hole?",
     ("A black hole is a region of space where gravity is so strong that nothing, not even "
     "light, can escape from it. Many black holes form when a very massive star runs out of "
     "fuel and collapses under its own weight. The boundary around a black hole beyond which "
     "escape is impossible is called the event horizon.")),
    ("What does a CPU do?",
     ("The CPU, or central processing unit, is the part of a computer that carries out "
     "instructions. It fetches an instruction from memory, decodes what it means and executes "
     "it, for example adding two numbers or moving data. It repeats this cycle billions of "
     "times per second. Modern CPUs have several cores, so they can work on more than one task "
     "at once.")),
    ("Why is recycling useful?",
     ("Recycling turns used materials such as paper, glass, metal and some plastics into new "
     "products. This means fewer raw materials need to be mined, cut down or drilled, and it "
     "usually takes less energy than making things from scratch. It also reduces the amount "
     "of waste sent to landfill sites and incinerators.")),
    ("What is the difference between speed and velocity?",
     ("Speed tells you how fast something is moving, for example 50 kilometres per hour. "
     "Velocity tells you how fast and in which direction, for example 50 kilometres per hour "
     "heading north. Speed is a scalar quantity, while velocity is a vector quantity. A car "
     "driving round a roundabout at a steady speed is constantly changing its velocity "
     "because its direction keeps changing.")),
    ("What is a fraction?",
     ("A fraction represents part of a whole. It is written as one number over another, such "
     "as 3/4. The bottom number, the denominator, tells you how many equal parts the whole is "
     "divided into, and the top number, the numerator, tells you how many of those parts you "
     "have. So 3/4 of a pizza means three of four equal slices.")),
    ("How do magnets work?",
     ("A magnet produces a magnetic field because the tiny magnetic moments of many of its "
     "electrons line up in the same direction. Every magnet has a north pole and a south pole. "
     "Opposite poles attract each other and like poles repel. Magnets also attract some "
     "metals, such as iron, nickel and cobalt, by lining up the magnetic moments inside them.")),
]

# (instruction, answer) programming tasks; answers are Markdown with one fenced block.
CODE = [
    ("Write a Python function that reverses a string.",
     ("```python\ndef reverse_string(text):\n    return text[::-1]\n```\n\nThe slice `[::-1]` "
     "steps through the string backwards, so `reverse_string(\"hello\")` returns `\"olleh\"`.")),
    ("Write a Python function that checks whether a number is even.",
     ("```python\ndef is_even(n):\n    return n % 2 == 0\n```\n\nA number is even when dividing "
     "it by 2 leaves no remainder.")),
    ("Write a Python function that returns the factorial of a non-negative integer.",
     ("```python\ndef factorial(n):\n    if n < 0:\n        raise ValueError(\"n must be "
     "non-negative\")\n    result = 1\n    for i in range(2, n + 1):\n        result *= i\n"
     "    return result\n```\n\nFor example, `factorial(5)` returns 120, and `factorial(0)` "
     "returns 1.")),
    ("Write a Python function that returns the first n Fibonacci numbers.",
     ("```python\ndef fibonacci(n):\n    numbers = []\n    a, b = 0, 1\n    for _ in range(n):\n"
     "        numbers.append(a)\n        a, b = b, a + b\n    return numbers\n```\n\n"
     "`fibonacci(7)` returns `[0, 1, 1, 2, 3, 5, 8]`.")),
    ("Write a Python function that checks whether a word is a palindrome.",
     ("```python\ndef is_palindrome(word):\n    cleaned = word.lower()\n    return cleaned == "
     "cleaned[::-1]\n```\n\nThe function lower-cases the word and compares it with its "
     "reverse, so `is_palindrome(\"Level\")` returns `True`.")),
    ("Write a Python function that counts the vowels in a string.",
     ("```python\ndef count_vowels(text):\n    return sum(1 for ch in text.lower() if ch in "
     "\"aeiou\")\n```\n\n`count_vowels(\"Programming\")` returns 3.")),
    ("Write a Python function that converts Celsius to Fahrenheit.",
     ("```python\ndef celsius_to_fahrenheit(celsius):\n    return celsius * 9 / 5 + 32\n```\n\n"
     "For example, `celsius_to_fahrenheit(100)` returns 212.0.")),
    ("Write a Python function that finds the largest number in a list without using max().",
     ("```python\ndef largest(numbers):\n    if not numbers:\n        raise ValueError(\"the "
     "list is empty\")\n    best = numbers[0]\n    for n in numbers[1:]:\n        if n > best:\n"
     "            best = n\n    return best\n```\n\nThe function keeps the largest value seen "
     "so far and updates it whenever it finds a bigger one.")),
    ("Write a Python function that removes duplicates from a list but keeps the original order.",
     ("```python\ndef unique(items):\n    seen = set()\n    result = []\n    for item in items:\n"
     "        if item not in seen:\n            seen.add(item)\n            result.append(item)\n"
     "    return result\n```\n\n`unique([3, 1, 3, 2, 1])` returns `[3, 1, 2]`.")),
    ("Write a Python function that counts how often each word appears in a sentence.",
     ("```python\nfrom collections import Counter\n\n\ndef word_counts(sentence):\n    return "
     "Counter(sentence.lower().split())\n```\n\n`word_counts(\"the cat and the hat\")` gives "
     "`Counter({'the': 2, 'cat': 1, 'and': 1, 'hat': 1})`.")),
    ("Write a Python function that checks whether a number is prime.",
     ("```python\ndef is_prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i "
     "* i <= n:\n        if n % i == 0:\n            return False\n        i += 1\n    return "
     "True\n```\n\nIt only needs to test divisors up to the square root of `n`.")),
    ("Write a SQL query that selects all customers from the customers table who live in London.",
     ("```sql\nSELECT *\nFROM customers\nWHERE city = 'London';\n```\n\nReplace `*` with "
     "specific column names if you only need some of them.")),
    ("Write a SQL query that counts the orders for each customer in an orders table.",
     ("```sql\nSELECT customer_id, COUNT(*) AS order_count\nFROM orders\nGROUP BY customer_id\n"
     "ORDER BY order_count DESC;\n```\n\nThe `GROUP BY` clause makes one row per customer.")),
    ("Write a shell command that counts the lines in a file called notes.txt.",
     ("```bash\nwc -l notes.txt\n```\n\n`wc -l` prints the number of lines followed by the "
     "file name.")),
    ("Write a Python function that sums the even numbers in a list.",
     ("```python\ndef sum_even(numbers):\n    return sum(n for n in numbers if n % 2 == 0)\n"
     "```\n\n`sum_even([1, 2, 3, 4, 6])` returns 12.")),
]

# Planet descriptions for a long answer.
PLANETS = [
    ("Mercury", ("Mercury is the smallest planet and the closest to the Sun. It has almost no "
     "atmosphere, so its surface is scorching by day and freezing at night. A year on Mercury "
     "lasts only 88 Earth days.")),
    ("Venus", ("Venus is similar in size to Earth but is covered in thick clouds of carbon "
     "dioxide and sulfuric acid. The clouds trap heat, making Venus the hottest planet in the "
     "solar system. It spins very slowly and in the opposite direction to most planets.")),
    ("Earth", ("Earth is the third planet from the Sun and the only place known to support "
     "life. Liquid water covers about seventy percent of its surface, and its atmosphere is "
     "mostly nitrogen and oxygen. It has one natural satellite, the Moon.")),
    ("Mars", ("Mars is known as the Red Planet because iron oxide, or rust, colours its dusty "
     "surface. It has the tallest volcano in the solar system, Olympus Mons, and two small "
     "moons called Phobos and Deimos. Robotic rovers have found evidence that water once "
     "flowed there.")),
    ("Jupiter", ("Jupiter is the largest planet, a gas giant made mostly of hydrogen and "
     "helium. Its Great Red Spot is a storm wider than Earth that has been observed for well "
     "over a century. Jupiter has dozens of moons, including Ganymede, the largest moon in the "
     "solar system.")),
    ("Saturn", ("Saturn is the second largest planet and is famous for its bright rings, which "
     "are made of ice and rock. It is a gas giant with a very low density. Its largest moon, "
     "Titan, has a thick atmosphere and lakes of liquid methane.")),
    ("Uranus", ("Uranus is an ice giant that rotates on its side, probably because of a huge "
     "collision long ago. Methane in its atmosphere gives it a pale blue-green colour. It was "
     "the first planet discovered with a telescope.")),
    ("Neptune", ("Neptune is the farthest planet from the Sun and another ice giant. It has "
     "the strongest winds measured in the solar system. Its deep blue colour also comes from "
     "methane, and it takes about 165 Earth years to orbit the Sun once.")),
]

# (instruction, long answer) hand-written guides of 300+ words.
LONG_GUIDES = [
    ("Write a beginner's guide to starting a vegetable garden.",
     ("Starting a vegetable garden is easier than many people think, and a small, well-planned "
     "plot will give you more food and less frustration than a large, neglected one.\n\n"
     "1. Choose the right spot. Most vegetables need at least six hours of direct sunlight a "
     "day. Pick a place that gets plenty of sun, drains well after rain and is close to a "
     "water supply, because you will be watering often in summer.\n\n"
     "2. Start small. A bed of about two metres by one metre, or a few large containers, is "
     "enough for a first season. You can always expand next year once you know how much time "
     "the garden really takes.\n\n"
     "3. Prepare the soil. Remove grass and weeds, loosen the soil with a fork and mix in a "
     "generous layer of compost. Healthy soil that holds moisture but does not stay "
     "waterlogged is the foundation of a productive garden.\n\n"
     "4. Pick easy crops. Lettuce, radishes, courgettes, beans, peas and tomatoes are "
     "forgiving choices for beginners. Grow things you actually like to eat, and check the "
     "seed packets for the right sowing time in your area.\n\n"
     "5. Plant and label. Follow the spacing on the packet, even if the seedlings look tiny; "
     "crowded plants compete for light and water and are more prone to disease. Label each "
     "row so you remember what you planted and when.\n\n"
     "6. Water wisely. Water deeply a few times a week rather than a little every day, and "
     "water the soil rather than the leaves, ideally in the morning. A layer of mulch, such "
     "as straw or shredded leaves, keeps moisture in and weeds down.\n\n"
     "7. Keep up with small jobs. Pull weeds while they are small, check the undersides of "
     "leaves for pests, and tie tall plants to supports as they grow. Ten minutes every day "
     "or two is far better than a long session once a month.\n\n"
     "8. Harvest often. Many crops, such as beans and courgettes, produce more when you pick "
     "them regularly. Keep notes on what did well and what did not, and use them to plan an "
     "even better garden next year.")),
    ("Explain how a beginner can train for a first 10-kilometre run.",
     ("Training for a first 10-kilometre run is a realistic goal for most healthy adults, and "
     "a gradual plan of about ten to twelve weeks keeps the risk of injury low.\n\n"
     "Begin by checking your starting point. If you cannot yet run for twenty minutes without "
     "stopping, spend the first few weeks on walk-run sessions: alternate a few minutes of "
     "easy running with a minute or two of walking, and slowly make the running sections "
     "longer. Three sessions a week, with rest days in between, is plenty at this stage.\n\n"
     "Once you can run continuously for about thirty minutes, start building distance. Keep "
     "most of your runs at an easy, conversational pace, where you could speak in full "
     "sentences. Once a week, make one run a little longer than the others, adding about "
     "one kilometre every week or two. A common rule of thumb is to increase your total "
     "weekly distance by no more than about ten percent.\n\n"
     "After a month or so, you can add a little variety. One session a week might include "
     "short efforts at a faster pace, such as six repeats of one minute quick and two "
     "minutes easy. These sessions improve your fitness, but they are optional; finishing "
     "comfortably is the main goal of a first race.\n\n"
     "Look after your body between runs. Sleep well, eat balanced meals with enough "
     "carbohydrate and protein, and drink water through the day. Simple strength exercises, "
     "such as squats, lunges and calf raises twice a week, help protect your knees and "
     "ankles. Comfortable shoes that suit your feet make a real difference.\n\n"
     "In the last week before the race, cut your distance roughly in half so that you arrive "
     "fresh. Do not try new shoes, new food or new drinks on race day. Start slower than you "
     "think you need to, settle into a steady rhythm and enjoy the atmosphere. Many first-time "
     "runners find that the final kilometre, with the finish line in sight, is the easiest "
     "one of all.")),
    ("Write a short essay on why reading is important.",
     ("Reading is one of the most valuable habits a person can build, because it shapes how "
     "we think, how we communicate and how we understand other people.\n\n"
     "First, reading builds knowledge. A book or a well-researched article can pack years of "
     "someone else's experience into a few hours. Whether the subject is history, science, "
     "cooking or car repair, reading lets us learn from people we will never meet and from "
     "times we could never visit. This knowledge builds on itself: the more we know, the "
     "easier it becomes to understand new ideas.\n\n"
     "Second, reading improves language. Readers meet a wide range of words and sentence "
     "structures, and they absorb them naturally. Over time, this shows up in clearer "
     "writing, a larger vocabulary and greater confidence when speaking. Teachers often notice "
     "that students who read for pleasure write more fluently than those who do not.\n\n"
     "Third, reading strengthens concentration. Much of modern life is made of short messages "
     "and constant interruptions. Following a long argument or a complicated plot trains the "
     "mind to stay with one thing for a sustained period, a skill that is useful in study, "
     "work and everyday problem solving.\n\n"
     "Fourth, fiction in particular builds empathy. When we follow a character through their "
     "fears, choices and mistakes, we see the world from a point of view that may be very "
     "different from our own. This practice in imagining other lives can make us more patient "
     "and understanding in real relationships.\n\n"
     "Finally, reading is a source of rest and enjoyment. A good story can lower stress, "
     "offer a break from screens and provide a quiet pleasure that costs very little, "
     "especially with a library card.\n\n"
     "In short, reading informs us, sharpens our language, trains our attention and widens "
     "our sympathy. Even twenty minutes a day, built into a regular routine, can bring these "
     "benefits to anyone, at any age.")),
]

# Word pools for sorting, reversing and counting tasks (distinct, lower-case, no 'y').
FRUITS = ["apple", "banana", "cherry", "grape", "lemon", "mango", "orange", "peach", "pear",
          "plum", "kiwi", "melon", "apricot", "fig", "lime", "guava"]
ANIMAL_WORDS = ["zebra", "lion", "tiger", "horse", "rabbit", "camel", "otter", "eagle", "wolf",
                "panda", "koala", "moose", "beaver", "falcon", "badger", "heron"]
COLOURS = ["red", "green", "blue", "purple", "orange", "white", "black", "silver", "violet",
           "brown", "pink", "indigo", "maroon", "teal"]
WORDS = ["planet", "window", "garden", "rocket", "silence", "marble", "thunder", "pencil",
         "bridge", "lantern", "castle", "orchestra", "elephant", "notebook", "harbour",
         "library", "compass", "mountain", "kitchen", "umbrella", "chocolate", "volcano",
         "dolphin", "treasure", "balloon", "level", "radar", "racecar", "stats", "refer",
         "kayak", "rotor"]
SENTENCES = [
    "The quick brown fox jumps over the lazy dog",
    "Practice makes perfect",
    "Every cloud has a silver lining",
    "The early bird catches the worm",
    "A journey of a thousand miles begins with a single step",
    "Knowledge is power",
    "Actions speak louder than words",
    "The cat sat on the warm windowsill all afternoon",
    "She sells sea shells by the sea shore",
    "We planted three apple trees in the garden last spring",
    "Reading before bed helps me relax",
    "The train to Edinburgh leaves at half past nine",
]

NAMES = ["Maya", "Liam", "Sofia", "Noah", "Aisha", "Ethan", "Chloe", "Omar", "Grace", "Lucas",
         "Priya", "Daniel", "Hannah", "Mateo", "Zoe", "Samuel", "Lena", "Ravi", "Emma", "Jonah",
         "Nadia", "Owen", "Isla", "Tariq", "Ruby", "Felix", "Amara", "Leo", "Mei", "Jack"]
