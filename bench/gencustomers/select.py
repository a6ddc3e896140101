#!/usr/bin/env python3
"""Deterministic choice of benchmark customers from the RIPE dumps (bench/generate.sh).

    select.py IRR_DIR N > customers.tsv

Each output line is NAME ASN OBJECT ROUTES ASNS: OBJECT is an AS-SET or the aut-num itself,
ROUTES the route/route6 objects of its cone in the RIPE-NONAUTH dumps, ASNS the cone's size.
Only objects whose cone has route objects are candidates. The mix: 40 % aut-nums alone
(single-homed stubs), 60 % AS-SETs in buckets by route count (1-9, 10-99, 100-999,
1000-9999, >= 10000) with shares 25/17/11/5/2 % of N, the way a transit's customer base is
mostly small with a few large cones. Within a kind or bucket, candidates are taken in the
order of the SHA-1 of their name, so the choice is the same on every run and machine.
"""
import collections, gzip, hashlib, re, sys

ASN = re.compile(r'^AS\d+$')


def objects(path, key):
    """Yields the objects of class key in an RPSL dump as {attribute: [values]}."""
    cur, attr = None, None
    with gzip.open(path, 'rt', errors='replace') as f:
        for line in f:
            if line.startswith(('#', '%')):
                continue
            if not line.strip():
                if cur:
                    yield cur
                cur = None
                continue
            if line[0] in ' \t+' and cur is not None and attr:
                cur[attr].append(line.strip().split('#')[0])
                continue
            k, _, v = line.partition(':')
            k = k.strip().lower()
            if cur is None:
                if k != key:
                    continue
                cur = {}
            attr = k
            cur.setdefault(k, []).append(v.split('#')[0].strip())
    if cur:
        yield cur


def order(name):
    return hashlib.sha1(name.encode()).hexdigest()


def main():
    d, n = sys.argv[1], int(sys.argv[2])
    routes = collections.Counter()
    for f, k in (('ripe-nonauth.db.route.gz', 'route'), ('ripe-nonauth.db.route6.gz', 'route6')):
        for o in objects(f'{d}/{f}', k):
            routes[o['origin'][0].upper()] += 1
    sets = {}
    for o in objects(f'{d}/ripe.db.as-set.gz', 'as-set'):
        members = []
        for line in o.get('members', []):
            members += [m.strip().upper() for m in line.split(',') if m.strip()]
        sets[o['as-set'][0].upper()] = members
    autnums = sorted({o['aut-num'][0].upper() for o in objects(f'{d}/ripe-nonauth.db.aut-num.gz', 'aut-num')} & set(routes), key=order)

    def cone(name):
        seen, asns, todo = {name}, set(), [name]
        while todo:
            for m in sets.get(todo.pop(), []):
                if ASN.match(m):
                    asns.add(m)
                elif m in sets and m not in seen:
                    seen.add(m)
                    todo.append(m)
        return asns

    quota = {0: 25, 1: 17, 2: 11, 3: 5, 4: 2}  # percent of n per log10(routes) bucket
    want = {b: n * p // 100 for b, p in quota.items()}
    want[0] += n - int(n * 0.4) - sum(want.values())
    picked = collections.defaultdict(list)
    for s in sorted(sets, key=order):
        if all(len(picked[b]) >= w for b, w in want.items()):
            break
        asns = cone(s)
        r = sum(routes[a] for a in asns)
        if r == 0:
            continue
        b = min(len(str(r)) - 1, 4)
        if len(picked[b]) < want[b]:
            # the session's ASN: the set's first direct ASN member, else the lowest of its cone
            direct = [m for m in sets[s] if ASN.match(m)]
            asn = direct[0] if direct else min(asns, key=lambda a: int(a[2:]))
            picked[b].append((s, asn, r, len(asns)))
    rows = [(a, a, routes[a], 1) for a in autnums[:n - sum(len(v) for v in picked.values())]]
    for b in sorted(picked):
        rows += picked[b]
    for i, (obj, asn, r, k) in enumerate(rows):
        print(f'c{i + 1:04d}\t{asn[2:]}\t{obj}\t{r}\t{k}')


main()
