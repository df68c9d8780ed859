import sys
def sub(path, pairs):
    s=open(path).read()
    for a,b in pairs:
        if a not in s: raise SystemExit(f"MISSING in {path}: {a}")
        s=s.replace(a,b)
    open(path,'w').write(s)
def w(text):  # wrap >text< as >{{ _('text') }}<
    return ('>'+text+'<', ">{{ _('"+text+"') }}<")
