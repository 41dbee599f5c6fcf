# -*- test-case-name: tests.services.walrus.test_rest -*-
"""
Bucket CORS configurations: parsing C{CORSConfiguration}, rendering it back,
and choosing the rule that answers a browser's request.

The store keeps a configuration as the JSON text of its rules.
"""

import json
import re

from lxml import etree

from eucalyptus.services.walrus.errors import CORSBadRequest, CORSForbidden, InvalidRequest, MalformedXML
from eucalyptus.services.walrus.s3xml import S3, parse_xml

__all__ = ["parse_cors", "cors_to_xml", "matching_rule", "response_headers", "check_preflight", "preflight"]

_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}
_FIELDS = {
    "AllowedOrigin": "origins",
    "AllowedMethod": "methods",
    "AllowedHeader": "headers",
    "ExposeHeader": "expose",
}


def parse_cors(body):
    """
    The JSON text of a C{CORSConfiguration} document's rules.

    @raise MalformedXML: not a configuration, no rules, a rule without an
        origin or method, an unknown method, or more than 100 rules.
    """
    root = parse_xml(body)
    if etree.QName(root).localname != "CORSConfiguration":
        raise MalformedXML()
    rules = []
    for element in root:
        if not isinstance(element.tag, str) or etree.QName(element).localname != "CORSRule":
            raise MalformedXML()
        rule = {"origins": [], "methods": [], "headers": [], "expose": [], "max_age": None, "id": None}
        for child in element:
            name = etree.QName(child).localname
            text = (child.text or "").strip()
            if name in _FIELDS:
                rule[_FIELDS[name]].append(text)
            elif name == "MaxAgeSeconds" and text.isdigit():
                rule["max_age"] = int(text)
            elif name == "ID":
                rule["id"] = text
            else:
                raise MalformedXML(f"Unexpected element {name} in a CORS rule.")
        if not rule["origins"] or not rule["methods"]:
            raise MalformedXML("Each CORS rule needs an AllowedOrigin and an AllowedMethod.")
        for method in rule["methods"]:
            if method not in _METHODS:
                raise InvalidRequest(f"Found unsupported HTTP method in CORS config. Unsupported method is {method}")
        for origin in rule["origins"]:
            if origin.count("*") > 1:
                raise InvalidRequest(f'AllowedOrigin "{origin}" can not have more than one wildcard.')
        for header in rule["headers"]:
            if header.count("*") > 1:
                raise InvalidRequest(f'AllowedHeader "{header}" can not have more than one wildcard.')
        rules.append(rule)
    if not rules or len(rules) > 100:
        raise MalformedXML("A CORS configuration has from 1 to 100 rules.")
    return json.dumps(rules)


def cors_to_xml(text):
    """
    The C{CORSConfiguration} document of stored rules.
    """
    document = S3.CORSConfiguration()
    for rule in json.loads(text):
        element = S3.CORSRule()
        if rule["id"]:
            element.append(S3.ID(rule["id"]))
        for tag, field in _FIELDS.items():
            for value in rule[field]:
                element.append(getattr(S3, tag)(value))
        if rule["max_age"] is not None:
            element.append(S3.MaxAgeSeconds(str(rule["max_age"])))
        document.append(element)
    return document


def _wildcard(pattern, text, ignore_case=False):
    """
    Whether C{text} matches C{pattern}, in which C{*} (and nothing else)
    stands for any characters.
    """
    expression = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(expression, text, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def matching_rule(text, origin, method, headers=()):
    """
    The first rule allowing C{origin} to use C{method} with C{headers}, or
    C{None}.  Origins are matched case-sensitively, header names not.
    """
    for rule in json.loads(text) if text else ():
        if method not in rule["methods"]:
            continue
        if not any(_wildcard(allowed, origin) for allowed in rule["origins"]):
            continue
        if all(any(_wildcard(a, h, ignore_case=True) for a in rule["headers"]) for h in headers):
            return rule
    return None


def check_preflight(origin, method):
    """
    @raise CORSBadRequest: a preflight request without an origin, or
        without a method CORS rules can allow.
    """
    if not origin:
        raise CORSBadRequest("Insufficient information. Origin request header needed.")
    if method not in _METHODS:
        raise CORSBadRequest(f"Invalid Access-Control-Request-Method: {method or 'null'}")


def preflight(text, origin, method, request_headers):
    """
    The answer to a preflight C{OPTIONS} request, as S3 gives it.

    @param text: the bucket's stored rules, or C{None}.
    @param origin: the C{Origin} header, or C{None}.
    @param method: the C{Access-Control-Request-Method} header, or C{None}.
    @param request_headers: the C{Access-Control-Request-Headers} header,
        or C{None}.
    @return: the response headers.
    @raise CORSBadRequest: no origin, or no supported method.
    @raise CORSForbidden: the bucket has no rules, or none matches.
    """
    check_preflight(origin, method)
    if not text:
        raise CORSForbidden("CORSResponse: CORS is not enabled for this bucket.", Method=method, ResourceType="BUCKET")
    wanted = [h.strip() for h in (request_headers or "").split(",") if h.strip()]
    rule = matching_rule(text, origin, method, wanted)
    if rule is None:
        raise CORSForbidden(Method=method, ResourceType="OBJECT")
    return response_headers(rule, origin, wanted)


def response_headers(rule, origin, request_headers=()):
    """
    The C{Access-Control-*} headers that answer C{origin} under C{rule}.
    """
    headers = {
        "Access-Control-Allow-Origin": "*" if rule["origins"] == ["*"] else origin,
        "Access-Control-Allow-Methods": ", ".join(rule["methods"]),
        "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    }
    if rule["origins"] != ["*"]:
        headers["Access-Control-Allow-Credentials"] = "true"
    if request_headers:
        headers["Access-Control-Allow-Headers"] = ", ".join(request_headers)
    if rule["expose"]:
        headers["Access-Control-Expose-Headers"] = ", ".join(rule["expose"])
    if rule["max_age"] is not None:
        headers["Access-Control-Max-Age"] = str(rule["max_age"])
    return headers
