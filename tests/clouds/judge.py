"""An independent judge of the trust oidc-gen writes for Google Cloud and Azure.

Reads JSON on stdin: {"gcp": {...} or null, "azure": {...} or null, "tokens": [{iss, aud, sub,
claims}]} and prints a JSON list: for each token, whether each cloud given admits it.

Google Cloud, as its token exchange does: the token's issuer is the provider's, its audience is
allowed, the attribute condition (run by cel-python, not by oidc-gen's interpreter) is true (an
error, as for a claim the token lacks, refuses it), the mapping gives google.subject (at most
127 bytes), and an IAM member names the principal (its subject) or a set it is in (the whole
pool, or attribute.NAME/VALUE of a mapped attribute).

Azure, as Entra matches federated credentials: issuer, one audience and the subject exactly, or
a flexible credential's claims matching expression, read here from its text (terms
claims['NAME'] matches 'GLOB' or eq 'VALUE', joined by and; '*' any characters, '?' one).
"""

import json
import re
import sys

import celpy


def cel_value(value):
    return celpy.json_to_cel(value)


class Gcp:
    def __init__(self, spec):
        self.spec = spec
        env = celpy.Environment()
        self.condition = env.program(env.compile(spec["condition"]))
        self.mapping = {
            name: env.program(env.compile(expression))
            for name, expression in spec["mapping"].items()
        }

    def admits(self, token):
        spec = self.spec
        if token["iss"].rstrip("/") != spec["issuer"].rstrip("/"):
            return False
        if token["aud"] not in spec["audiences"]:
            return False
        claims = dict(token["claims"])
        claims["sub"] = token["sub"]
        claims["aud"] = token["aud"]
        activation = {"assertion": cel_value(claims)}
        try:
            result = self.condition.evaluate(activation)
            if not isinstance(result, celpy.celtypes.BoolType) or not bool(result):
                return False
        except Exception:
            return False
        attributes = {}
        for name, program in self.mapping.items():
            try:
                attributes[name] = str(program.evaluate(activation))
            except Exception:
                if name == "google.subject":
                    return False
        subject = attributes.get("google.subject", "")
        if len(subject.encode()) > 127:
            return False
        pool = "iam.googleapis.com/" + spec["pool"]
        for member in spec["members"]:
            if member == "principal://" + pool + "/subject/" + subject:
                return True
            if member == "principalSet://" + pool + "/*":
                return True
            prefix = "principalSet://" + pool + "/attribute."
            if member.startswith(prefix):
                name, _, value = member[len(prefix):].partition("/")
                if attributes.get("attribute." + name) == value:
                    return True
        return False


TERM = re.compile(r"claims\['([^']+)'\] (matches|eq) '([^']*)'")


def glob(pattern, value):
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )
    return re.fullmatch(regex, value, re.DOTALL) is not None


def expression_holds(expression, claims):
    terms = expression.split(" and ")
    for term in terms:
        found = TERM.fullmatch(term)
        if found is None:
            raise ValueError("not a term: " + term)
        name, operator, literal = found.groups()
        if name not in claims:
            return False
        value = claims[name]
        if operator == "eq" and value != literal:
            return False
        if operator == "matches" and not glob(literal, value):
            return False
    return True


class Azure:
    def __init__(self, spec):
        self.spec = spec

    def admits(self, token):
        if token["iss"].rstrip("/") != self.spec["issuer"].rstrip("/"):
            return False
        claims = dict(token["claims"])
        claims["sub"] = token["sub"]
        for credential in self.spec["credentials"]:
            if credential["audience"] != token["aud"]:
                continue
            if credential.get("subject") is not None:
                if credential["subject"] == token["sub"]:
                    return True
            elif expression_holds(credential["expression"], claims):
                return True
        return False


def main():
    request = json.load(sys.stdin)
    judges = {
        "gcp": Gcp(request["gcp"]) if request.get("gcp") else None,
        "azure": Azure(request["azure"]) if request.get("azure") else None,
    }
    answers = []
    for token in request["tokens"]:
        answers.append(
            {name: judge.admits(token) for name, judge in judges.items() if judge}
        )
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
