#!/bin/bash
# Checks the repaired Makefile on a fresh copy of /app/unitconv; writes the reward.
mkdir -p /logs/verifier
echo 0 > /logs/verifier/reward.txt
failures=0
check() {  # check DESCRIPTION COMMAND...: run the command, count a failure if it fails
    local what=$1
    shift
    if "$@" >/tmp/check.out 2>&1; then
        echo "PASSED $what"
    else
        echo "FAILED $what"
        sed 's/^/    /' /tmp/check.out | tail -20
        failures=$((failures + 1))
    fi
}

work=$(mktemp -d)
cp -r /app/unitconv "$work/uc"
cd "$work/uc" || exit 1

check "sources, headers and tests unchanged" sha256sum --quiet -c - <<'SUMS'
4b958758ecbb6b5034963545ab6bf486c49ef088c2efaab0045a3a1195495dd8  include/format.h
237734ad5502eadc14da0ad1dfa3cd5492f1b60d016a2ac878406cd3db870e1f  include/parse.h
c8b8899f7807418779616eaed990842831c5e74a022e2fb5b1c2063825e2bb69  include/units.h
596441938d953b721ce6803f6b8d8f2190acac963694ab6870a0012613871f90  include/version.h
0fc0ee8a86eb71da2fb668a6fc1c478fb81daeff7104ac34525b42548148fb08  src/format.c
1baba20a4ae38d1b7c7cee977ae3967dd53b8f3a77b36697c2a8ae40c14ea15e  src/main.c
50cc0d0b151b38bd8f27accae373e9cea2bfddcac7ad0943fb13e7558aeef5ef  src/parse.c
ae90ee61e1f9101eed6e9282edecdb76a2dfb1573d312af2698bd8f9465519fe  src/units.c
18fccddb6c569dd133bbbc8b956542570c76de4134a8abe27d3bdb370eb24934  test/cases.txt
9b48e4e4b25a1656f1ae600e14f0c5c02ee3173e727b7bb2eadc8588e313bf9d  test/run.sh
SUMS
check "make clean leaves no build output" bash -c \
    'make clean && test ! -e bin/unitconv && test -z "$(find . -name "*.o" -o -name "*.d")"'
rm -rf bin
check "make -j4 builds bin/unitconv from a clean tree" bash -c 'make -j4 && test -x bin/unitconv'
check "unitconv converts" bash -c '[ "$(./bin/unitconv 10 km mi)" = "6.21371 mi" ]'
check "make test runs the tests" bash -c 'make test | grep -q "^PASS unitconv 100 C F"'
check "make test runs them again" bash -c 'make test | grep -q "^PASS unitconv 100 C F"'
check "nothing to do when nothing changed" make -q bin/unitconv
sleep 1
sed -i 's/"1\.4\.2"/"9.9.9"/' include/version.h
check "an edited header rebuilds what includes it" bash -c \
    'make && [ "$(./bin/unitconv --version)" = "unitconv 9.9.9" ]'
sleep 1
touch include/units.h
check "a touched header makes its users out of date" bash -c '! make -q bin/unitconv'
if command -v clang >/dev/null; then  # not every image has it
    check "make CC=clang works" bash -c \
        'make clean && make CC=clang && [ "$(./bin/unitconv 100 C F)" = "212 F" ]'
fi
check "make clean removes everything the build made" bash -c \
    'make clean && test ! -e bin/unitconv && test -z "$(find . -name "*.o" -o -name "*.d")"'

rm -rf "$work"
if [ "$failures" -eq 0 ]; then
    echo 1 > /logs/verifier/reward.txt
fi
