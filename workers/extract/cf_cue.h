/* SPDX-License-Identifier: MIT
 * cf_cue: the cue lexicon (cues.tsv): trigger words per fact type, status and
 * attribution cues, qualifiers, currencies, number words, scales, pronouns and
 * the other closed word lists the extractor matches. Categories are fixed here;
 * the words are data. */
#ifndef CF_CUE_H
#define CF_CUE_H

#include "cf_err.h"
#include "cf_lexicon.h"

/* Categories (the first column of cues.tsv, by the names in cf_cue_name). */
enum {
    CF_CUE_SHARE,      /* market share */
    CF_CUE_REVENUE,    /* revenue, sales, brought in */
    CF_CUE_GMV,        /* merchandise volume */
    CF_CUE_INVEST,     /* invest, set aside, bet (an amount) */
    CF_CUE_STAKE,      /* invest in, stake in (a company) */
    CF_CUE_DATACENTER, /* data center(s) */
    CF_CUE_CUSTOMERS,  /* customers, users, clients (after the number) */
    CF_CUE_CUSTCOUNT,  /* customer count, number of customers (before the number) */
    CF_CUE_PARTNER,    /* partnership with, partnered with */
    CF_CUE_ACQUIRE,    /* acquire, buy, acquisition of */
    CF_CUE_ENTER,      /* enter, expand in, move into */
    CF_CUE_EXIT,       /* exit, bow out of */
    CF_CUE_IPO,        /* IPO, go public */
    CF_CUE_GROWTH,     /* up, grew, rose (with a percent) */
    CF_CUE_TARGET,     /* match, surpass, overtake, edge out */
    CF_CUE_OFFER,      /* launched, release of, offers */
    CF_CUE_COMPARE,    /* comparable to, similar to (a rival's product) */
    CF_CUE_STATUS,     /* value: a status, for the fact whose trigger follows */
    CF_CUE_DOUBT,      /* the writer doubts the sentence: speculative */
    CF_CUE_ATTRIB,     /* according to, reported */
    CF_CUE_QUALIFIER,  /* value: about, nearly, more than, less than, at least, up to */
    CF_CUE_CURRENCY,   /* value: ISO 4217 code */
    CF_CUE_SCALE,      /* value: multiplier (million, billion) */
    CF_CUE_SCALEJ,     /* value: multiplier, only joined to the digits ("248B") */
    CF_CUE_NUMWORD,    /* value: number (seven, dozen) */
    CF_CUE_ARTICLE,    /* a, an: 1 before a scale only */
    CF_CUE_ORDINAL,    /* first, fifth: not counts */
    CF_CUE_PERCENT,    /* percent, %, per cent */
    CF_CUE_REF,        /* it, its, the company: the last named company */
    CF_CUE_UNITREF,    /* the cloud division: the last company's cloud unit */
    CF_CUE_SUFFIX,     /* Inc, Corp, Ltd: dropped from company names */
    CF_CUE_STOPCAP,    /* capitalized words that do not start a company name */
    CF_CUE_MARKET,     /* value: normalized market name (public cloud, IaaS) */
    CF_CUE_CLOUD,      /* words that make an article about the cloud market */
    CF_CUE_COMPNOUN,   /* company, startup, firm: "file-sharing company Gokuai" */
    CF_CUE_REVMIX,     /* "of its revenue": a percent that is a revenue mix, not a fact */
    CF_CUE_ORGNOUN,    /* value unit or -: "operator Switch", "the Beijing-based company" */
    CF_CUE_PERSON,     /* chairman, analyst: a name next to one is a person, not a company */
    CF_CUE_DIVEST,     /* sell (... to Y): Y acquires the seller */
    CF_CUE_BACKED,     /* backed by, owned by (Y): Y holds a stake in the company */
    CF_CUE_YEARFIX,    /* "so far in" (2020): the year the article is written in */
    CF_CUE_FRACTION,   /* value: a fraction of a figure named before (half, a third) */
    CF_CUE_ANAPHOR,    /* "of that", "of it": the figure named before */
    CF_CUE_SAY,        /* said, told reporters: a plan the company tells is announced */
    CF_CUE_RUMOR,      /* "people familiar with the matter": the sentence is rumored */
    CF_CUE_NAMEHEAD,   /* Technologies, Networks: a capitalized run ending in one is a company */
    CF_CUE_CROWD,      /* operators, providers: a plural subject that is no one company */
    CF_CUE_NEGATED,    /* was blocked by, called off: the fact next to it is speculative */
    CF_CUE_SRCNOUN,    /* brokerage, research firm: the unknown name after it is a source */
    CF_CUE_CLIENT,     /* among its customers, as a customer: the company before is a client */
    CF_CUE_PICK,       /* picked, chose: the companies after it serve the sentence's subject */
    CF_CUE_KEYCLIENT,  /* largest customer, anchor tenant: named with its provider's possessive */
    CF_CUE_PRODNOUN,   /* service, platform: ends a product named after its maker's possessive */
    CF_CUE_DECLINE,    /* fell, declined, down (right before a percent): a growth below zero */
    CF_CUE_MULTIPLE,   /* value: the multiple a figure grew by (doubled 2, tripled 3) */
    CF_CUE_RAISE,      /* raised, secured (money ... from Y): Y holds a stake in the raiser */
    CF_CUE_COUNT_
};

/* The longest market name cues.tsv may give, in bytes (it goes into a fact's
 * detail whole; a longer one is refused at load). */
#define CF_CUE_VALUE_MAX 48

/* The category's name in cues.tsv, or NULL. */
const char *cf_cue_name(int cat);

/* Loads dir/cues.tsv (category, value or "-", phrases separated by |) into a new
 * lexicon. Returns it (caller destroys) or NULL with err naming file:line. */
cf_lexicon_t *cf_cue_load(const char *dir, cf_err_t *err);

#endif
