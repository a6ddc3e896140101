#!/usr/bin/env bash
# Runs every bgpfilter test. As root it first installs the Debian packages the tests
# use as real peers (bgpq4, BIRD 2, FRR, gobgpd, ExaBGP, stayrtr, softflowd, nfdump, whois,
# chromium for the HTML report) when
# they are missing. Under CI=true a missing peer fails its test instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS="bgpq4 bird2 frr frr-rpki-rtrlib openbgpd gobgpd exabgp stayrtr softflowd nfdump whois iproute2 tshark chromium nftables"
missing=()
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages (run as root to install): ${missing[*]}" >&2
  fi
fi
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed:"; echo "$unformatted"; exit 1; fi
go vet ./...
# Platform code sits behind build tags (file owner, file locks, process groups): the
# tool must still build for the operators' other systems.
for target in windows/amd64 darwin/arm64 freebsd/amd64; do
  GOOS=${target%/*} GOARCH=${target#*/} go build ./... || { echo "cross build for $target failed"; exit 1; }
done
go test -race -count=1 -timeout 60m ./... "$@"
# The flow collector's datagram entry point (NetFlow v5/v9, IPFIX, sFlow) and the pcap
# reader take hostile input from the network: fuzz them for a short time on every run,
# beyond their seed corpus (issue 10).
go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 20s ./flow
go test -run '^$' -fuzz '^FuzzReader$' -fuzztime 10s ./flow/pcap
# The streaming RPKI JSON/CSV parser reads files an operator downloads: fuzz it too
# (whole input against one byte per read, read errors; issue 12 item 7).
go test -run '^$' -fuzz '^FuzzParseStream$' -fuzztime 10s ./rpki
