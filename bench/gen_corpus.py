#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Synthetic corpus for `make bench`: English cloud-market news articles of 2-6 KiB.

Deterministic (seeded): the same seed gives the same files, byte for byte. Every article is
written from the templates below (the team's own words) with varied companies, figures,
periods and places. One text file per article: the first line is the title, the rest the body
(the layout `cloudfact extract` and `cloudfact push` read).

Usage: gen_corpus.py OUTDIR [--count N] [--seed S]
"""
import argparse
import os
import random

COMPANIES = [
    ("Amazon Web Services", "AWS"), ("Microsoft Azure", "Azure"), ("Google Cloud", "Google Cloud"),
    ("Alibaba Cloud", "Alibaba Cloud"), ("Tencent Cloud", "Tencent Cloud"),
    ("Huawei Cloud", "Huawei Cloud"), ("Oracle Cloud Infrastructure", "Oracle"),
    ("IBM Cloud", "IBM"), ("Kingsoft Cloud", "Kingsoft Cloud"), ("Baidu", "Baidu"),
    ("Rackspace", "Rackspace"), ("DigitalOcean", "DigitalOcean"), ("Equinix", "Equinix"),
    ("Digital Realty Trust", "Digital Realty"), ("Salesforce", "Salesforce"),
    ("VMware", "VMware"), ("Cloudflare", "Cloudflare"), ("Akamai", "Akamai"),
    ("OVH", "OVH"), ("Hetzner", "Hetzner"), ("Scaleway", "Scaleway"), ("Vultr", "Vultr"),
    ("Linode", "Linode"), ("Snowflake", "Snowflake"), ("Databricks", "Databricks"),
    ("CoreWeave", "CoreWeave"), ("NTT", "NTT"), ("Fujitsu", "Fujitsu"), ("SAP", "SAP"),
    ("UCloud", "UCloud"), ("QingCloud", "QingCloud"), ("21Vianet", "21Vianet"),
    ("GDS", "GDS"), ("Naver Cloud", "Naver Cloud"), ("Yandex", "Yandex"),
    ("Nutanix", "Nutanix"), ("Red Hat", "Red Hat"), ("Dell", "Dell"), ("Cisco", "Cisco"),
    ("Hewlett Packard Enterprise", "HPE"), ("Lenovo", "Lenovo"), ("Inspur", "Inspur"),
]
CUSTOMERS = ["Netflix", "Airbnb", "Lyft", "Snapchat", "Spotify", "Siemens", "Unilever",
             "Volkswagen", "HSBC", "Standard Chartered", "Xiaomi", "Meituan", "Pinduoduo",
             "Zoom", "Slack", "Twitter", "Uber", "Samsung", "Toyota", "Nestle"]
SOURCES = ["Synergy Research", "Canalys", "Gartner", "IDC", "Forrester", "Reuters",
           "Bloomberg", "the Wall Street Journal", "the Financial Times", "CNBC",
           "TechCrunch", "The Information", "451 Research", "Flexera"]
PLACES = ["Frankfurt", "London", "Paris", "Tokyo", "Sydney", "Mumbai", "Seattle", "Virginia",
          "Oregon", "Dublin", "Amsterdam", "Stockholm", "Madrid", "Milan", "Zürich", "Riyadh",
          "Jakarta", "Bangkok", "Seoul", "Osaka", "Singapore", "Hong Kong", "Shenzhen",
          "Hangzhou", "Beijing", "Shanghai", "São Paulo", "Mexico City", "Toronto", "Montreal",
          "Johannesburg", "Cape Town", "Warsaw", "Helsinki", "Vienna", "Lisbon", "Tel Aviv",
          "Dubai", "Doha", "Santiago", "Bogota", "Melbourne", "Auckland", "Chennai", "Pune"]
COUNTRIES = ["Germany", "France", "Japan", "India", "Brazil", "Canada", "Mexico", "Indonesia",
             "Malaysia", "Thailand", "South Africa", "Saudi Arabia", "Spain", "Italy",
             "Poland", "Sweden", "South Korea", "Australia", "Chile", "Israel", "Turkey"]
MARKETS = ["public cloud", "infrastructure-as-a-service", "IaaS", "platform-as-a-service",
           "cloud infrastructure services", "Chinese cloud", "European cloud", "CDN",
           "colocation", "managed Kubernetes", "cloud database", "AI infrastructure"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
ORD = ["first", "second", "third", "fourth"]
EXECS = ["chief executive", "chief financial officer", "head of cloud", "senior vice president",
         "general manager for the region", "chief technology officer"]
NAMES = ["Maria Lopez", "Wei Zhang", "Priya Natarajan", "John Okafor", "Anna Schmidt",
         "Kenji Watanabe", "Fatima Al-Sayed", "Lucas Martin", "Sofia Rossi", "David Cohen",
         "Ines Ferreira", "Tomasz Nowak", "Aisha Bello", "Erik Lindqvist", "Hannah Kim"]

FACT_TEMPLATES = [
    # market share
    "{co} held {q}{pct} percent of the {mkt} market in {period}, according to {src}.",
    "According to {src}, {co} now controls {q}{pct} percent of the {mkt} market, ahead of {co2}.",
    "{co2} came second with a market share of {pct2} percent in {period}, {src} estimated.",
    # revenue and growth
    "{co} brought in ${bn} billion in the {ord} quarter of {year}, up {pct} percent from a year earlier.",
    "Revenue at {co} rose {pct} percent to ${bn} billion in {period}, the company said on {day}.",
    "{co} reported revenue of {mn} million euros for {year}, {src} said.",
    "The unit's annual run rate passed ${bn} billion, {name}, its {exec}, told analysts.",
    # investment and data centers
    "{co} will invest ${bn} billion in {country} over the next {n} years, mostly in new data centers.",
    "{co} opened {nword} data centers in {place} on {day}, its {ordn} cloud region in {country}.",
    "{co} plans to build a data center in {place} by {year2}, according to people familiar with the matter.",
    "The company now operates {n2} availability zones across {n} regions worldwide.",
    # customers and partnerships
    "{co} said it has more than {k},000 paying customers in {country}, including {cust}.",
    "{cust} signed a multi-year agreement to move its workloads to {co}, {src} reported.",
    "{co} announced a partnership with {co2} to offer {mkt} services in {country}.",
    "{co} teamed up with {cust} on a joint venture that targets customers in {place}.",
    # deals
    "{co} agreed to acquire {co2} for ${bn} billion in cash, the companies said on {day}.",
    "{co} is in talks to buy a minority stake in {co2}, {src} reported, citing sources.",
    "{co} invested ${mn} million in {co2} in {month} {year}.",
    # expansion, exit, targets, offerings, IPO
    "{co} said it would expand into {country} next year, starting with a region in {place}.",
    "{co} will exit the {mkt} market in {country} by the end of {year2}.",
    "{co} aims to overtake {co2} in {country} within {n} years, {name} said.",
    "{co} launched a {mkt} offering for customers in {country} on {day}.",
    "{co} is preparing an initial public offering in {place} that could value it at ${bn} billion.",
]
FILLER = [
    "Analysts said the result reflected strong demand from retailers and banks moving older systems off their own hardware.",
    "Prices for storage and compute kept falling during the period, which squeezed margins across the industry.",
    "The company did not break out operating profit for the cloud business.",
    "Competition for large enterprise contracts has intensified as buyers spread their workloads across several providers.",
    "Several smaller providers have struggled to keep up with the capital spending of the largest players.",
    "Regulators in {country} have asked foreign providers to keep citizens' data inside the country.",
    "Power and cooling remain the main constraints on new capacity, executives said on a call with investors.",
    "Demand for graphics processors used to train artificial intelligence models has lifted spending on new capacity.",
    "The shares rose {small} percent in early trading in New York.",
    "Customers have complained about egress fees, the charges for moving data out of a provider's network.",
    "\u201cWe are still at the very beginning of this shift,\u201d {name} said in an interview.",
    "\u201cOur customers want choice, and they want their data close to home,\u201d {name}, the {exec}, said.",
    "The figures do not include software-as-a-service revenue, which several providers report separately.",
    "Industry estimates vary widely because companies define their cloud businesses in different ways.",
    "Spending on cloud infrastructure services reached a record in {period}, driven by large deals in {country}.",
    "The company employs about {k},000 people and has offices in {n2} countries.",
    "Local partners will resell the services and provide support in the local language.",
    "Some analysts warned that the pace of growth would slow as the largest customers finish their migrations.",
    "The new facilities will run partly on renewable energy bought under long-term contracts.",
    "Earlier this year the company cut prices for several of its storage tiers by up to {small} percent.",
]
TITLES = [
    "{co} grows cloud revenue {pct} percent", "{co} opens data centers in {place}",
    "{co} to invest ${bn} billion in {country}", "{co} gains share in {mkt} market",
    "{co} and {co2} form cloud partnership", "{co} agrees to buy {co2}",
    "{co} expands into {country}", "{co} plans listing in {place}",
    "Cloud spending hits record as {co} leads", "{co} wins {cust} as a customer",
]


def fill(rng, template, ctx):
    """Fills one template; ctx holds the article's main company and period."""
    year = ctx["year"]
    co2 = rng.choice([c for c in COMPANIES if c[1] != ctx["co"]])[1]
    vals = {
        "co": ctx["co"], "co2": co2, "cust": rng.choice(CUSTOMERS), "src": rng.choice(SOURCES),
        "place": rng.choice(PLACES), "country": rng.choice(COUNTRIES),
        "mkt": rng.choice(MARKETS), "year": year, "year2": year + rng.randint(1, 3),
        "period": rng.choice([str(year), "the %s quarter of %d" % (rng.choice(ORD), year),
                              "%s %d" % (rng.choice(MONTHS), year)]),
        "ord": rng.choice(ORD), "ordn": rng.choice(["second", "third", "fourth", "fifth"]),
        "month": rng.choice(MONTHS), "day": rng.choice(DAYS),
        "pct": "%d" % rng.randint(3, 62) if rng.random() < 0.7 else "%.1f" % rng.uniform(1, 60),
        "pct2": "%d" % rng.randint(3, 30), "small": "%d" % rng.randint(2, 15),
        "q": rng.choice(["", "", "about ", "nearly ", "more than "]),
        "bn": rng.choice(["%d" % rng.randint(1, 40), "%.1f" % rng.uniform(0.5, 30)]),
        "mn": "%d" % rng.randint(20, 900), "k": "%d" % rng.randint(2, 300),
        "n": rng.randint(2, 10), "n2": rng.randint(3, 90),
        "nword": rng.choice(["two", "three", "four", "five"]),
        "name": rng.choice(NAMES), "exec": rng.choice(EXECS),
    }
    return template.format(**vals)


def article(rng, i):
    """One article: (title, body) with a body of 2-6 KiB."""
    co_full, co = rng.choice(COMPANIES)
    ctx = {"co": co, "year": rng.randint(2012, 2024)}
    target = rng.randint(2048 + 200, 6144 - 300)
    title = fill(rng, rng.choice(TITLES), ctx)
    paras = []
    size = 0
    # the lead: the company's full name and a fact sentence, then the paragraphs
    name = co_full if co_full == co else "%s (%s)" % (co_full, co)
    lead = "%s said on %s: %s" % (name, rng.choice(DAYS),
                                fill(rng, rng.choice(FACT_TEMPLATES), ctx))
    paras.append(lead)
    size += len(lead.encode())
    while size < target:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            if rng.random() < 0.45:
                sentences.append(fill(rng, rng.choice(FACT_TEMPLATES), ctx))
            else:
                sentences.append(fill(rng, rng.choice(FILLER), ctx))
        p = " ".join(sentences)
        if size + len(p.encode()) + 1 > 6144 - 64:
            break
        paras.append(p)
        size += len(p.encode()) + 1
    body = "\n".join(paras)
    return title, body


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--count", type=int, default=600)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.outdir, exist_ok=True)
    total = 0
    for i in range(args.count):
        title, body = article(rng, i)
        while len(body.encode()) < 2048:  # too short: add a paragraph
            body += "\n" + fill(rng, rng.choice(FILLER), {"co": "AWS", "year": 2016})
        data = (title + "\n" + body + "\n").encode("utf-8")
        total += len(data)
        with open(os.path.join(args.outdir, "a%05d.txt" % i), "wb") as f:
            f.write(data)
    print("gen_corpus: %d articles, %.1f MB in %s" % (args.count, total / 1e6, args.outdir))


if __name__ == "__main__":
    main()
