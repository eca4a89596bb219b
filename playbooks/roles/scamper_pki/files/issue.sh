#!/bin/sh
# issue.sh DIR NAME SAN DAYS RENEW_DAYS CA_CERT CA_KEY < request.csr
#
# Sign a host's request with the lab CA, unless DIR/NAME.crt already certifies
# the same key with the same names from the same CA and is not about to expire:
# that is what keeps a second playbook run from changing anything.
# Prints "issued" or "unchanged".
set -eu
dir=$1 name=$2 san=$3 days=$4 renew=$5 cacert=$6 cakey=$7
crt="$dir/$name.crt"
tmp=$(mktemp "$dir/.req.XXXXXX")
trap 'rm -f "$tmp" "$tmp.ext"' EXIT
cat >"$tmp"
openssl req -in "$tmp" -noout -verify >/dev/null 2>&1 || { echo "bad request for $name" >&2; exit 1; }
want_key=$(openssl req -in "$tmp" -noout -pubkey)
if [ -f "$crt" ] && [ -f "$dir/$name.san" ] &&
  [ "$(cat "$dir/$name.san")" = "$san" ] &&
  [ "$(openssl x509 -in "$crt" -noout -pubkey)" = "$want_key" ] &&
  openssl verify -CAfile "$cacert" "$crt" >/dev/null 2>&1 &&
  openssl x509 -in "$crt" -noout -checkend $((renew * 86400)) >/dev/null; then
  echo unchanged
  exit 0
fi
{
  echo "basicConstraints = critical, CA:FALSE"
  echo "keyUsage = critical, digitalSignature"
  echo "extendedKeyUsage = serverAuth, clientAuth"
  echo "subjectAltName = $san"
} >"$tmp.ext"
# A random serial: hosts are signed in parallel, so no shared serial file.
openssl x509 -req -in "$tmp" -CA "$cacert" -CAkey "$cakey" -set_serial "0x$(openssl rand -hex 16)" \
  -days "$days" -extfile "$tmp.ext" -out "$crt.new"
chmod 0644 "$crt.new"
mv "$crt.new" "$crt"
printf '%s\n' "$san" >"$dir/$name.san"
echo issued
