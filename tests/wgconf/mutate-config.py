#!/usr/bin/env python3
# Print a variant of a wg-quick config that wg-quick and wg(8) read the same
# way: key names in random case, blanks around '=' and (for wg's own keys)
# inside values, around commas, trailing comments, blank and comment lines,
# "[ Peer ]", CRLF line ends, no final newline. Deterministic per seed.
#   mutate-config.py FILE SEED
import random
import sys

src, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
data = open(src, 'rb').read()
bom = data.startswith(b'\xef\xbb\xbf')
text = data.decode('utf-8-sig').replace('\r\n', '\n')
out = []
WGNATIVE = ('privatekey','publickey','presharedkey','allowedips','endpoint','persistentkeepalive','listenport','fwmark')
def blanks():
    return r.choice(['', ' ', '  ', '\t', ' \t '])
for line in text.split('\n'):
    s = line.split('#', 1)[0].strip()
    if '=' in s and not s.startswith('['):
        k, v = s.split('=', 1)
        k = k.strip(); v = v.strip()
        k = ''.join(c.upper() if r.random() < 0.3 else (c.lower() if r.random() < 0.3 else c) for c in k)
        if k.lower() in WGNATIVE and r.random() < 0.3 and len(v) > 2:
            i = r.randrange(1, len(v)); v = v[:i] + r.choice([' ', '\t']) + v[i:]
        if ',' in v and r.random() < 0.5:
            v = v.replace(',', r.choice([', ', ' ,', ' , ', ',']))
        line = blanks() + k + blanks() + '=' + blanks() + v + blanks()
        if r.random() < 0.3:
            line += r.choice(['#', ' # c', '\t#x=y', '#[Peer]'])
    elif s.startswith('['):
        line = blanks() + (s.lower() if r.random() < 0.3 else s) + blanks() + (r.choice(['', '# hdr', ' #']) )
        if s.lower() == '[peer]' and r.random() < 0.3:
            line = '[ Peer ]'
    out.append(line)
    if r.random() < 0.1:
        out.append(r.choice(['', '#', '   ', '# PostUp = x', '\t']))
res = '\n'.join(out)
if r.random() < 0.3: res = res.replace('\n', '\r\n')
if r.random() < 0.2: res = res.rstrip('\r\n')
b = res.encode()
if bom: b = b'\xef\xbb\xbf' + b
sys.stdout.buffer.write(b)
