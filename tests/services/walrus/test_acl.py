"""
Tests for L{eucalyptus.services.walrus.acl}: canned ACLs, grant headers,
policy documents and the one question the operations layer asks.
"""

from lxml import etree
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import AccessDenied
from eucalyptus.services.walrus import acl
from eucalyptus.services.walrus.errors import InvalidArgument, InvalidRequest, MalformedACLError, UnresolvableGrantByEmailAddress
from eucalyptus.services.walrus.s3xml import S3_NS, XSI_NS, to_bytes

ALICE = acl.Identity("111111111111", "alice")
BOB = acl.Identity("222222222222", "bob")
NAMES = {ALICE.account_id: "alice", BOB.account_id: "bob"}.get


def policy(grants, owner=ALICE.account_id, ns=f' xmlns="{S3_NS}"'):
    """
    An AccessControlPolicy document with C{grants} (XML text of C{Grant}s).
    """
    return (
        f'<AccessControlPolicy{ns} xmlns:xsi="{XSI_NS}"><Owner><ID>{owner}</ID></Owner>'
        f"<AccessControlList>{''.join(grants)}</AccessControlList></AccessControlPolicy>"
    ).encode()


def user_grant(account_id, permission):
    return f'<Grant><Grantee xsi:type="CanonicalUser"><ID>{account_id}</ID></Grantee><Permission>{permission}</Permission></Grant>'


def group_grant(uri, permission):
    return f'<Grant><Grantee xsi:type="Group"><URI>{uri}</URI></Grantee><Permission>{permission}</Permission></Grant>'


class CannedTests(SynchronousTestCase):
    """
    L{acl.Acl.canned}.
    """

    def test_names(self):
        """
        Each canned name gives the owner FULL_CONTROL and its group grants.
        """
        expected = {
            "private": set(),
            "public-read": {("Group", acl.ALL_USERS, "READ")},
            "public-read-write": {("Group", acl.ALL_USERS, "READ"), ("Group", acl.ALL_USERS, "WRITE")},
            "authenticated-read": {("Group", acl.AUTHENTICATED_USERS, "READ")},
            "log-delivery-write": {("Group", acl.LOG_DELIVERY, "WRITE"), ("Group", acl.LOG_DELIVERY, "READ_ACP")},
            "aws-exec-read": set(),
        }
        for name, extra in expected.items():
            made = acl.Acl.canned(name, ALICE.account_id, "alice")
            grants = {(g.kind, g.grantee, g.permission) for g in made.grants}
            self.assertEqual(grants, {("CanonicalUser", ALICE.account_id, "FULL_CONTROL")} | extra, name)

    def test_bucket_owner(self):
        """
        bucket-owner-read and bucket-owner-full-control grant the bucket's
        owner when it is someone else, and nothing more otherwise.
        """
        read = acl.Acl.canned("bucket-owner-read", BOB.account_id, "bob", ALICE.account_id, "alice")
        full = acl.Acl.canned("bucket-owner-full-control", BOB.account_id, "bob", ALICE.account_id, "alice")
        own = acl.Acl.canned("bucket-owner-full-control", ALICE.account_id, "alice", ALICE.account_id, "alice")
        self.assertIn(acl.Grant("CanonicalUser", ALICE.account_id, "READ", "alice"), read.grants)
        self.assertIn(acl.Grant("CanonicalUser", ALICE.account_id, "FULL_CONTROL", "alice"), full.grants)
        self.assertEqual(len(own.grants), 1)

    def test_unknown(self):
        """
        An unknown name is InvalidArgument.
        """
        self.assertRaises(InvalidArgument, acl.Acl.canned, "world-writable", ALICE.account_id, "alice")


class AllowsTests(SynchronousTestCase):
    """
    L{acl.Acl.allows}.
    """

    def test_owner(self):
        """
        The owner has what its grants say, and always READ_ACP and WRITE_ACP.
        """
        bare = acl.Acl(ALICE.account_id, "alice", ())
        self.assertFalse(bare.allows(ALICE, "READ"))
        self.assertTrue(bare.allows(ALICE, "READ_ACP"))
        self.assertTrue(bare.allows(ALICE, "WRITE_ACP"))

    def test_full_control(self):
        """
        FULL_CONTROL implies every permission.
        """
        made = acl.Acl(ALICE.account_id, "alice", (acl.Grant("CanonicalUser", BOB.account_id, "FULL_CONTROL"),))
        for permission in acl.PERMISSIONS:
            self.assertTrue(made.allows(BOB, permission))

    def test_groups(self):
        """
        AllUsers includes anonymous callers; AuthenticatedUsers does not.
        """
        everyone = acl.Acl.canned("public-read", ALICE.account_id, "alice")
        accounts = acl.Acl.canned("authenticated-read", ALICE.account_id, "alice")
        self.assertTrue(everyone.allows(acl.ANONYMOUS, "READ"))
        self.assertFalse(everyone.allows(acl.ANONYMOUS, "WRITE"))
        self.assertTrue(accounts.allows(BOB, "READ"))
        self.assertFalse(accounts.allows(acl.ANONYMOUS, "READ"))

    def test_other_permission(self):
        """
        A READ grant is not WRITE, nor READ_ACP.
        """
        made = acl.Acl(ALICE.account_id, "alice", (acl.Grant("CanonicalUser", BOB.account_id, "READ"),))
        self.assertTrue(made.allows(BOB, "READ"))
        self.assertFalse(made.allows(BOB, "WRITE"))
        self.assertFalse(made.allows(BOB, "READ_ACP"))
        self.assertFalse(made.allows(acl.Identity("333333333333"), "READ"))

    def test_log_delivery_not_everyone(self):
        """
        A grant to another group matches nobody Walrus knows.
        """
        made = acl.Acl.canned("log-delivery-write", ALICE.account_id, "alice")
        self.assertFalse(made.allows(BOB, "WRITE"))
        self.assertFalse(made.allows(acl.ANONYMOUS, "WRITE"))


class SerialisationTests(SynchronousTestCase):
    """
    L{acl.Acl.dumps}, L{acl.Acl.loads} and L{acl.Acl.to_xml}.
    """

    def test_round_trip(self):
        """
        loads(dumps(acl)) is the same ACL.
        """
        made = acl.Acl(
            ALICE.account_id,
            "alice",
            (acl.Grant("CanonicalUser", BOB.account_id, "READ", "bob"), acl.Grant("Group", acl.ALL_USERS, "WRITE")),
        )
        self.assertEqual(acl.Acl.loads(made.dumps()), made)

    def test_xml(self):
        """
        The policy document has S3's namespace, the owner, and typed
        grantees.
        """
        made = acl.Acl(ALICE.account_id, "alice", (acl.Grant("CanonicalUser", BOB.account_id, "READ", "bob"), acl.Grant("Group", acl.ALL_USERS, "READ")))
        root = etree.fromstring(to_bytes(made.to_xml()))
        ns = {"s3": S3_NS}
        self.assertEqual(root.tag, f"{{{S3_NS}}}AccessControlPolicy")
        self.assertEqual(root.findtext("s3:Owner/s3:ID", namespaces=ns), ALICE.account_id)
        self.assertEqual(root.findtext("s3:Owner/s3:DisplayName", namespaces=ns), "alice")
        grantees = root.findall("s3:AccessControlList/s3:Grant/s3:Grantee", namespaces=ns)
        self.assertEqual([g.get(f"{{{XSI_NS}}}type") for g in grantees], ["CanonicalUser", "Group"])
        self.assertEqual(grantees[0].findtext("s3:DisplayName", namespaces=ns), "bob")
        self.assertEqual(grantees[1].findtext("s3:URI", namespaces=ns), acl.ALL_USERS)

    def test_xml_parses_back(self):
        """
        The document L{acl.Acl.to_xml} writes, L{acl.from_xml} reads.
        """
        made = acl.Acl(ALICE.account_id, "alice", (acl.Grant("CanonicalUser", BOB.account_id, "READ", "bob"), acl.Grant("Group", acl.ALL_USERS, "READ")))
        self.assertEqual(acl.from_xml(to_bytes(made.to_xml()), ALICE.account_id, "alice", NAMES), made)


class FromRequestTests(SynchronousTestCase):
    """
    L{acl.from_request}: C{x-amz-acl} and C{x-amz-grant-*}.
    """

    def test_default_private(self):
        """
        No ACL headers is private.
        """
        self.assertEqual(acl.from_request({}, ALICE.account_id, "alice", NAMES), acl.Acl.canned("private", ALICE.account_id, "alice"))

    def test_canned(self):
        """
        C{x-amz-acl} is a canned ACL.
        """
        made = acl.from_request({"x-amz-acl": "public-read"}, ALICE.account_id, "alice", NAMES)
        self.assertTrue(made.allows(acl.ANONYMOUS, "READ"))

    def test_grants(self):
        """
        Grant headers list grantees by id and uri, with spaces and quotes,
        and give exactly those grants (with display names).
        """
        headers = {
            "x-amz-grant-read": f'id="{BOB.account_id}", uri="{acl.ALL_USERS}"',
            "x-amz-grant-full-control": f"id={ALICE.account_id}",
            "x-amz-grant-write-acp": f' ID = "{BOB.account_id}" ',
        }
        made = acl.from_request(headers, ALICE.account_id, "alice", NAMES)
        self.assertEqual(
            set(made.grants),
            {
                acl.Grant("CanonicalUser", BOB.account_id, "READ", "bob"),
                acl.Grant("Group", acl.ALL_USERS, "READ"),
                acl.Grant("CanonicalUser", ALICE.account_id, "FULL_CONTROL", "alice"),
                acl.Grant("CanonicalUser", BOB.account_id, "WRITE_ACP", "bob"),
            },
        )

    def test_both(self):
        """
        A canned ACL with grant headers is InvalidRequest.
        """
        headers = {"x-amz-acl": "private", "x-amz-grant-read": f'id="{BOB.account_id}"'}
        self.assertRaises(InvalidRequest, acl.from_request, headers, ALICE.account_id, "alice", NAMES)

    def test_email(self):
        """
        A grantee by e-mail is UnresolvableGrantByEmailAddress.
        """
        headers = {"x-amz-grant-read": 'emailAddress="bob@example.com"'}
        self.assertRaises(UnresolvableGrantByEmailAddress, acl.from_request, headers, ALICE.account_id, "alice", NAMES)

    def test_bad_grantee(self):
        """
        A grantee that is not C{id=}, C{uri=} or C{emailAddress=} is
        InvalidArgument.
        """
        for value in ('name="bob"', "bob", 'id=""'):
            self.assertRaises(InvalidArgument, acl.from_request, {"x-amz-grant-read": value}, ALICE.account_id, "alice", NAMES)


class FromXmlTests(SynchronousTestCase):
    """
    L{acl.from_xml}: AccessControlPolicy documents.
    """

    def test_grants(self):
        """
        User and group grants become the ACL, with display names resolved.
        """
        made = acl.from_xml(
            policy([user_grant(BOB.account_id, "READ"), group_grant(acl.AUTHENTICATED_USERS, "READ_ACP")]), ALICE.account_id, "alice", NAMES
        )
        self.assertEqual(made.grants, (acl.Grant("CanonicalUser", BOB.account_id, "READ", "bob"), acl.Grant("Group", acl.AUTHENTICATED_USERS, "READ_ACP")))

    def test_without_namespace(self):
        """
        A document without S3's namespace is read the same, not as empty.
        """
        made = acl.from_xml(policy([user_grant(BOB.account_id, "READ")], ns=""), ALICE.account_id, "alice", NAMES)
        self.assertEqual(made.grants, (acl.Grant("CanonicalUser", BOB.account_id, "READ", "bob"),))

    def test_no_owner(self):
        """
        A document without an Owner keeps the resource's owner.
        """
        body = policy([user_grant(BOB.account_id, "READ")]).replace(f"<Owner><ID>{ALICE.account_id}</ID></Owner>".encode(), b"")
        self.assertEqual(acl.from_xml(body, ALICE.account_id, "alice", NAMES).owner, ALICE.account_id)

    def test_owner_change(self):
        """
        A document naming another owner is AccessDenied.
        """
        self.assertRaises(AccessDenied, acl.from_xml, policy([], owner=BOB.account_id), ALICE.account_id, "alice", NAMES)

    def test_malformed(self):
        """
        Not XML, another root, an unknown permission, a grantee without a
        type or of an unknown type, and grantees without their ID or URI are
        MalformedACLError.
        """
        for body in (
            b"<AccessControlPolicy>",
            b"<Other/>",
            policy([user_grant(BOB.account_id, "EVERYTHING")]),
            policy(["<Grant><Grantee><ID>1</ID></Grantee><Permission>READ</Permission></Grant>"]),
            policy(['<Grant><Grantee xsi:type="Martian"><ID>1</ID></Grantee><Permission>READ</Permission></Grant>']),
            policy(["<Grant><Permission>READ</Permission></Grant>"]),
            policy([user_grant("", "READ")]),
            policy([group_grant("", "READ")]),
        ):
            self.assertRaises(MalformedACLError, acl.from_xml, body, ALICE.account_id, "alice", NAMES)

    def test_email(self):
        """
        A grantee by e-mail is UnresolvableGrantByEmailAddress.
        """
        body = policy(['<Grant><Grantee xsi:type="AmazonCustomerByEmail"><EmailAddress>b@example.com</EmailAddress></Grantee><Permission>READ</Permission></Grant>'])
        self.assertRaises(UnresolvableGrantByEmailAddress, acl.from_xml, body, ALICE.account_id, "alice", NAMES)
