"""What a question asks about its subject: the kinds of ask, the question cues that tell them, and what a sentence
that answers each kind contains."""

from __future__ import annotations

import re
from enum import StrEnum


class Ask(StrEnum):
    """What a question asks about its subject."""

    INTERACTION = "interaction"
    COMPARISON = "comparison"
    PREGNANCY = "pregnancy"  # safety in pregnancy or breastfeeding
    TIME_WINDOW = "time_window"
    DOSE = "dose"
    DURATION = "duration"
    SCREENING = "screening"
    MONITORING = "monitoring"
    FIRST_LINE = "first_line"
    DIAGNOSIS = "diagnosis"
    CAUSE = "cause"  # what causes it, whether it is inherited or catching
    PROGNOSIS = "prognosis"
    PREVENTION = "prevention"
    RISK_FACTORS = "risk_factors"
    TREATMENT = "treatment"
    DEFINITION = "definition"
    OTHER = "other"


# Question cues, tried in this order (the most specific ask wins). Safety in pregnancy comes after the asks a
# pregnant patient's question may make (a dose, a first-line drug, a comparison): pregnancy is then its population.
_ASK_CUES: tuple[tuple[Ask, re.Pattern[str]], ...] = tuple((a, re.compile(p, re.IGNORECASE)) for a, p in (
    (Ask.INTERACTION, r"\b(?:interact\w*|together with|at the same time as|mix(?:ing)? \w+ (?:with|and)|combin\w+|"
                      r"(?:drink|have|having|drinking) (?:alcohol|beer|wine|a drink|drinks|grapefruit)|"
                      r"mess(?:es)? (?:with|up)|(?:while|whilst) (?:on|taking|using|(?:i'?m|she'?s|he'?s|they'?re) "
                      r"(?:on|taking)))\b"),
    (Ask.COMPARISON, r"\b(?:vs\.?|versus|compared (?:to|with)|better than|difference between|or .+ better|"
                     r"which is (?:better|best|safer|preferred)|safer than)\b"),
    (Ask.SCREENING, r"\b(?:screen\w*|mammo\w*|mamogram\w*|colonoscop\w*|pap (?:smears?|tests?)|smears?|"
                    r"get tested|start testing|surveillance|hpv test\w*|"
                    r"how often should .+ (?:checked|tested))\b"),
    (Ask.TIME_WINDOW, r"\b(?:within|time window|how soon|how quickly|how many hours|how late|too late|window|"
                      r"how long after|hours? (?:after|from)|up to (?:how|what)|latest (?:time|age|point)|"
                      r"when (?:can|should|do|does|will) (?:[\w'-]+ ){1,2}"
                      r"(?:start|begin|restart|go back|return|see (?:a|my|the|someone|him|her)|be seen|"
                      r"be (?:started|repeated|restarted))|"
                      r"when (?:do|should) (?:you|we|i) repeat)\b"),
    (Ask.DOSE, r"(?<!low-)(?<!low )(?<!high-)(?<!high )\b(?:doses?|dosage|dosing|how much|"
               r"how many (?:mg|milligrams?|tablets?|pills?|puffs?|units?)|maximum|max|how many a day|strength|"
               r"bolus|(?:once|twice|three times) a day)\b"),
    (Ask.DURATION, r"\b(?:how long|duration|for how many|how many (?:days|weeks|months|years|sessions)|"
                   r"when (?:can|should|do|to) (?:i |we |you |they |he |she )?stop|stop (?:taking|treatment|it)|"
                   r"(?:be|get) (?:stopped|continued)|can (?:i|we|you|they|he|she) (?:just )?stop|keep taking|"
                   r"continue|lifelong|indefinitely|length of|long[- ]term|drug holiday)\b"),
    (Ask.MONITORING, r"\b(?:monitor\w*|follow-?up|recheck\w*|re-check\w*|how often .+ (?:check|test|measure|review)\w*|"
                     r"targets?|goals?|when should (?:i|we|you) review)\b"),
    (Ask.FIRST_LINE, r"\b(?:first[- ]line|first[- ]choice|first (?:drug|medicine|medication|treatment|dmard|"
                     r"antibiotic|option|step)|initial (?:treatment|therapy|drug|choice|maintenance)|drug of choice|"
                     r"start(?:ed)? (?:on|with)|preferred|what first|(?:try|start|give|use) first|"
                     r"best (?:drug|medicine|medication|treatment|antibiotic|option)|"
                     r"which (?:drug|medicine|medication|antibiotic|inhaler|pill|tablet|cream)|"
                     r"what (?:antibiotic|drug|medicine|medication|inhaler|cream) )"),
    (Ask.PREGNANCY, r"\b(?:pregnan\w*|breast ?-?fe(?:e)?d\w*|breast-?fed|nursing (?:mother|mum|mom)|lactat\w*|"
                    r"expecting a baby|trying to conceive|trimester)\b"),
    (Ask.DIAGNOSIS, r"\b(?:diagnos\w*|tests? for|what tests?|confirm\w*|criteria|work-?up|imaging|scan|"
                    r"blood tests?|how (?:do|can|would) (?:i|you|we|doctors?) (?:know|tell)|signs? of)\b"),
    (Ask.CAUSE, r"\b(?:what causes?|what caused|causes? of|what (?:is|are) the causes?|"
                r"(?:is|are) (?:it|they|this|\w+) (?:inherited|hereditary|genetic|contagious|catching)|"
                r"(?:does|do) (?:it|this|they|\w+) run in (?:the |my )?famil\w*|"
                r"^\s*(?:is|are) [\w\s-]{1,40}? (?:inherited|hereditary|contagious)\s*\??\s*$)"),
    (Ask.PROGNOSIS, r"\b(?:outlook|prognosis|life expectancy|survival rates?|chances? of (?:recovery|survival)|"
                    r"will (?:it|this) (?:go away|get better|clear up)|go away on its own)\b"),
    (Ask.PREVENTION, r"\b(?:prevent\w*|prophyla\w*|avoid getting|reduce (?:the |my )?risk|vaccin\w*|immuni[sz]\w*|"
                     r"jabs?|shots?)\b"),
    (Ask.RISK_FACTORS, r"\b(?:risk factors?|who (?:is|are) (?:at|more) (?:risk|likely)|who gets|"
                       r"(?:am i|are you|is (?:he|she)) at (?:high |higher |increased )?risk)\b"),
    (Ask.TREATMENT, r"\b(?:treat\w*|therap\w*|manag\w*|medications?|medicines?|drugs?|cure|help|reliev\w*|relief|"
                    r"get rid|what (?:should|can|do) (?:i|we|you) (?:do|take|use|give))\b"),
    (Ask.DEFINITION, r"^\s*(?:what(?:'s| is| are) (?:a |an |the )?\w+\s*\??$|define|what does .+ mean)"),
))


def detect_ask(question: str) -> Ask:
    """The most specific ask whose cue the question contains."""
    for ask, cue in _ASK_CUES:
        if cue.search(question):
            return ask
    return Ask.OTHER


# What a sentence that answers each kind of ask contains.
ASK_EVIDENCE: dict[Ask, re.Pattern[str]] = {a: re.compile(p, re.IGNORECASE) for a, p in {
    Ask.DOSE: r"\b\d+(?:[.,]\d+)?\s?(?:-\s?\d+(?:[.,]\d+)?\s?)?(?:mg|g|mcg|µg|micrograms?|milligrams?|grams?|units?|"
              r"iu|ml|mmol|mg/kg|puffs?|inhalations?|tablets?|drops?)\b|\bdose\b",
    Ask.DURATION: r"\b(?:\d+|one|two|three|four|five|six|seven|ten|twelve)(?:\s?(?:-|to|–)\s?\d+)?\s?"
                  r"(?:days?|weeks?|months?|years?)\b|\b(?:lifelong|indefinite\w*|long-term|extended|stop\w*|"
                  r"duration)\b",
    Ask.TIME_WINDOW: r"\b(?:within|up to|hours?|minutes?|as soon as|window|time from|last known well|onset)\b",
    Ask.PREGNANCY: r"\b(?:pregnan\w*|breast ?-?fe\w*|lactat\w*|trimester|conception|antenatal)",
    Ask.FIRST_LINE: r"\b(?:first[- ]line|initial|preferred|recommend\w*|of choice|start\w*|offer\w*|suggest\w*)\b",
    Ask.SCREENING: r"\b(?:screen\w*|every \d+ years?|aged? \d+|from age|interval)\b",
    Ask.MONITORING: r"\b(?:monitor\w*|check\w*|measur\w*|every \d+|review\w*|target\w*|goal\w*|follow-?up)\b",
    Ask.DIAGNOSIS: r"\b(?:diagnos\w*|test\w*|criteri\w*|confirm\w*|imaging|assess\w*|measur\w*|antibod\w*)\b",
    # "X is caused by", not "Y can cause X": a sentence naming what X causes does not say what causes X.
    Ask.CAUSE: r"\b(?:caused by|causes? of|cause is|is due to|are due to|results? from|trigger\w*|inherit\w*|"
               r"genetic\w*|genes?|mutation\w*|sporadic|hereditar\w*|famil(?:y|ial) history|contagious|"
               r"spread\w*|transmi\w*|risk factors?)\b",
    Ask.PROGNOSIS: r"\b(?:prognos\w*|outlook|recover\w*|resolv\w*|get better|gets better|self-limiting|"
                   r"life expectancy|lifespan|mortality|surviv\w*|fatal|death|die|dies|progress\w*|worsen\w*|no cure|"
                   r"go(?:es)? away|clear\w* up|on (?:its|their) own)\b",
    Ask.RISK_FACTORS: r"\b(?:risk factors?|at (?:high |higher |increased |greater )?risk|more likely|more common|"
                      r"increases? (?:the |your )?risk|higher risk|risk of)\b",
    Ask.PREVENTION: r"\b(?:prevent\w*|prophyla\w*|vaccin\w*|reduc\w*|avoid\w*|risk)\b",
    Ask.TREATMENT: r"\b(?:treat\w*|therap\w*|recommend\w*|offer\w*|manag\w*|first[- ]line|mg|suggest\w*|"
                   r"prescrib\w*|regimen)\b",
    Ask.INTERACTION: r"\b(?:interact\w*|avoid\w*|combin\w*|together|concomitant|with|alcohol|not be (?:used|taken))\b",
    Ask.COMPARISON: r"\b(?:over|rather than|preferred|versus|compared|instead|superior|better|than)\b",
}.items()}

ASK_WORDS = {Ask.DOSE: "dose", Ask.DURATION: "duration", Ask.TIME_WINDOW: "time window",
             Ask.INTERACTION: "interaction", Ask.COMPARISON: "comparison", Ask.PREGNANCY: "use in pregnancy",
             Ask.SCREENING: "screening", Ask.MONITORING: "monitoring", Ask.FIRST_LINE: "first-line choice",
             Ask.DIAGNOSIS: "diagnosis", Ask.PREVENTION: "prevention", Ask.TREATMENT: "treatment",
             Ask.CAUSE: "cause", Ask.PROGNOSIS: "outlook", Ask.RISK_FACTORS: "risk factors"}


# Where a question names the thing it asks about ("will a weighted blanket help", "is CBD oil any good for",
# "do I need to give up coffee"): the words of this slot must be words the corpus uses, or no guideline covers it.
_X = r"(?P<x>[A-Za-z][\w'-]*(?:\s[A-Za-z][\w'-]*){0,2}?)"
_DET = r"(?:(?:a|an|the|my|his|her|their|some|more|less|any|this|these|those|taking|using|eating|drinking|" \
       r"wearing|doing|having)\s)?"
OBJECT_SLOTS: tuple[re.Pattern[str], ...] = tuple(re.compile(p, re.IGNORECASE) for p in (
    rf"\b(?:is|are|does|do|did|will|would|can|could|might|may|should)\s{_DET}{_X}\s(?:really\s)?(?:help|helps|work|"
    rf"works|any good|good for|worth|cure|cures|effective|safe|ok|okay|fine|harmful|dangerous)\b",
    rf"\b(?:take|taking|took|use|using|try|trying|get|getting|have|having|drink|drinking|eat|eating|give up|"
    rf"giving up|cut out|cutting out|avoid|avoiding)\s{_DET}{_X}\s(?:for|with|while|to|if|when|after|before|during|"
    rf"instead|again|as well)\b",
    rf"\b(?:give up|cut out|avoid|try|take|use|get|have|drink|eat)\s{_DET}{_X}\s*[?.!]*\s*$",
    rf"^\s*{_X}\s(?:for|to treat)\s.+\b(?:any good|worth it|help|helps|work|works|true|effective)\b",
    rf"\b(?:says?|heard|read)\s(?:that\s)?{_X}\s(?:for|to treat|cures?|helps?|works?)\s",
))


def object_spans(question: str) -> list[tuple[int, int]]:
    """Character spans of the slots naming what the question asks about."""
    return [m.span("x") for p in OBJECT_SLOTS for m in p.finditer(question)]
