# -*- test-case-name: tests.soap.test_envelope -*-
"""
Parsing XML that came from the network.

L{parse_untrusted} refuses what a service must never process: DTDs (and with
them external entities and entity-expansion bombs), entity references, and
anything that is not well-formed.  Every received document goes through it.
"""

from lxml import etree

__all__ = ["parse_untrusted"]

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def parse_untrusted(data, error):
    """
    Parse received bytes.

    @param data: the document, C{bytes}.
    @param error: the L{eucalyptus.errors.EucalyptusError} class to raise.
    @return: the root element.
    @raise error: the bytes are not well-formed XML or carry a DTD or
        entity references.
    """
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise error(f"The document is not well-formed XML: {e}")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise error("The document carries a DTD; DTDs and entities are not accepted.")
    if next(root.iter(etree.Entity), None) is not None:
        raise error("The document uses entity references; they are not accepted.")
    return root
