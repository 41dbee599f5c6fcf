"""
Access control lists through boto3: canned ACLs, grants by header and by
document, and what other accounts and anonymous callers may then do.
"""

from twisted.internet import defer

from tests.services.walrus.harness import WalrusTestCase, in_thread

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def grants_of(acl):
    """
    The grants of a Get*Acl answer as C{(grantee, permission)} pairs.
    """
    found = []
    for grant in acl["Grants"]:
        grantee = grant["Grantee"]
        found.append((grantee.get("URI") or grantee.get("ID"), grant["Permission"]))
    return sorted(found)


class AclTestCase(WalrusTestCase):
    """
    Alice's private bucket C{acl} with a private object C{secret}; bob and
    an anonymous client.
    """

    @defer.inlineCallbacks
    def setUp(self):
        yield WalrusTestCase.setUp(self)
        self.bob = self.walrus.client("bob")
        self.anonymous = self.walrus.client(None)
        self.alice_id = self.walrus.keys["alice"].account_id
        self.bob_id = self.walrus.keys["bob"].account_id
        yield in_thread(self.s3.create_bucket, Bucket="acl")
        yield in_thread(self.s3.put_object, Bucket="acl", Key="secret", Body=b"s3cr3t")

    def read_as(self, client, key="secret", bucket="acl"):
        def call():
            return client.get_object(Bucket=bucket, Key=key)["Body"].read()

        return in_thread(call)


class CannedAclTests(AclTestCase):
    """
    Canned ACLs on buckets and objects, and the grants they stand for.
    """

    @defer.inlineCallbacks
    def test_bucket_canned(self):
        """
        Each canned bucket ACL gives the owner FULL_CONTROL plus its groups.
        """
        expected = {
            "private": [],
            "public-read": [(ALL_USERS, "READ")],
            "public-read-write": [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")],
            "authenticated-read": [(AUTHENTICATED_USERS, "READ")],
        }
        for canned, extra in expected.items():
            yield in_thread(self.s3.put_bucket_acl, Bucket="acl", ACL=canned)
            acl = yield in_thread(self.s3.get_bucket_acl, Bucket="acl")
            self.assertEqual(grants_of(acl), sorted([(self.alice_id, "FULL_CONTROL")] + extra), canned)
            self.assertEqual(acl["Owner"], {"ID": self.alice_id, "DisplayName": "alice"})

    @defer.inlineCallbacks
    def test_acl_shape(self):
        """
        GetObjectAcl names grantees with their type, ID and display name, or
        URI.
        """
        yield in_thread(self.s3.put_object_acl, Bucket="acl", Key="secret", ACL="public-read")
        acl = yield in_thread(self.s3.get_object_acl, Bucket="acl", Key="secret")
        by_type = {g["Grantee"]["Type"]: g for g in acl["Grants"]}
        self.assertEqual(by_type["CanonicalUser"]["Grantee"], {"Type": "CanonicalUser", "ID": self.alice_id, "DisplayName": "alice"})
        self.assertEqual(by_type["CanonicalUser"]["Permission"], "FULL_CONTROL")
        self.assertEqual(by_type["Group"]["Grantee"], {"Type": "Group", "URI": ALL_USERS})
        self.assertEqual(by_type["Group"]["Permission"], "READ")

    @defer.inlineCallbacks
    def test_create_bucket_with_acl(self):
        """
        CreateBucket's ACL applies from the start.
        """
        yield in_thread(self.s3.create_bucket, Bucket="open", ACL="public-read")
        acl = yield in_thread(self.s3.get_bucket_acl, Bucket="open")
        self.assertIn((ALL_USERS, "READ"), grants_of(acl))

    @defer.inlineCallbacks
    def test_public_read_object(self):
        """
        Anyone reads a public-read object; a private one is AccessDenied.
        """
        yield in_thread(self.s3.put_object, Bucket="acl", Key="open", Body=b"hi", ACL="public-read")
        body = yield self.read_as(self.anonymous, "open")
        self.assertEqual(body, b"hi")
        body = yield self.read_as(self.bob, "open")
        self.assertEqual(body, b"hi")
        yield self.assert_error("AccessDenied", 403, self.anonymous.get_object, Bucket="acl", Key="secret")
        yield self.assert_error("403", 403, self.anonymous.head_object, Bucket="acl", Key="secret")

    @defer.inlineCallbacks
    def test_public_read_url(self):
        """
        A public-read object is readable by a plain unsigned HTTP GET.
        """
        yield in_thread(self.s3.put_object, Bucket="acl", Key="a page.html", Body=b"<html/>", ACL="public-read", ContentType="text/html")
        status, headers, body = yield self.raw("GET", "/acl/a%20page.html")
        self.assertEqual((status, body, headers["content-type"]), (200, b"<html/>", "text/html"))

    @defer.inlineCallbacks
    def test_authenticated_read(self):
        """
        authenticated-read lets bob read but not anonymous callers.
        """
        yield in_thread(self.s3.put_object_acl, Bucket="acl", Key="secret", ACL="authenticated-read")
        body = yield self.read_as(self.bob)
        self.assertEqual(body, b"s3cr3t")
        yield self.assert_error("AccessDenied", 403, self.anonymous.get_object, Bucket="acl", Key="secret")

    @defer.inlineCallbacks
    def test_public_read_write_bucket(self):
        """
        In a public-read-write bucket bob and anonymous callers may write and
        list; the objects they write belong to them (bob) or to the bucket
        owner (anonymous).
        """
        yield in_thread(self.s3.put_bucket_acl, Bucket="acl", ACL="public-read-write")
        yield in_thread(self.bob.put_object, Bucket="acl", Key="from-bob", Body=b"b")
        yield in_thread(self.anonymous.put_object, Bucket="acl", Key="from-nobody", Body=b"n")
        listing = yield in_thread(self.anonymous.list_objects, Bucket="acl")
        owners = {c["Key"]: c["Owner"]["ID"] for c in listing["Contents"]}
        self.assertEqual(owners, {"from-bob": self.bob_id, "from-nobody": self.alice_id, "secret": self.alice_id})
        yield self.assert_error("AccessDenied", 403, self.s3.get_object, Bucket="acl", Key="from-bob")

    @defer.inlineCallbacks
    def test_bucket_owner_full_control(self):
        """
        bucket-owner-full-control on bob's object in alice's bucket lets
        alice read it and its ACL; without it alice cannot.
        """
        yield in_thread(self.s3.put_bucket_acl, Bucket="acl", ACL="public-read-write")
        yield in_thread(self.bob.put_object, Bucket="acl", Key="shared", Body=b"x", ACL="bucket-owner-full-control")
        yield in_thread(self.bob.put_object, Bucket="acl", Key="kept", Body=b"y")
        body = yield self.read_as(self.s3, "shared")
        self.assertEqual(body, b"x")
        acl = yield in_thread(self.s3.get_object_acl, Bucket="acl", Key="shared")
        self.assertEqual(grants_of(acl), sorted([(self.bob_id, "FULL_CONTROL"), (self.alice_id, "FULL_CONTROL")]))
        self.assertEqual(acl["Owner"]["ID"], self.bob_id)
        yield self.assert_error("AccessDenied", 403, self.s3.get_object, Bucket="acl", Key="kept")

    @defer.inlineCallbacks
    def test_bucket_owner_full_control_own_bucket(self):
        """
        bucket-owner-full-control in one's own bucket is just FULL_CONTROL
        for the owner.
        """
        yield in_thread(self.s3.put_object, Bucket="acl", Key="k", Body=b"", ACL="bucket-owner-full-control")
        acl = yield in_thread(self.s3.get_object_acl, Bucket="acl", Key="k")
        self.assertEqual(grants_of(acl), [(self.alice_id, "FULL_CONTROL")])

    def test_unknown_canned(self):
        """
        An unknown canned ACL is InvalidArgument.
        """
        s3 = self.s3

        def call():
            s3.meta.events.register_first("before-sign.s3.PutObject", _set_header("x-amz-acl", "world-writable"))
            s3.put_object(Bucket="acl", Key="k", Body=b"")

        return self.assert_error("InvalidArgument", 400, call)


def _set_header(name, value):
    def hook(request, **kwargs):
        request.headers[name] = value

    return hook


class GrantTests(AclTestCase):
    """
    Grants by C{x-amz-grant-*} headers and AccessControlPolicy documents.
    """

    @defer.inlineCallbacks
    def test_grant_read_header(self):
        """
        GrantRead by id lets bob read the object, and nobody else.
        """
        yield in_thread(self.s3.put_object_acl, Bucket="acl", Key="secret", GrantRead=f'id="{self.bob_id}"')
        body = yield self.read_as(self.bob)
        self.assertEqual(body, b"s3cr3t")
        acl = yield in_thread(self.s3.get_object_acl, Bucket="acl", Key="secret")
        self.assertEqual(grants_of(acl), [(self.bob_id, "READ")])
        yield self.assert_error("AccessDenied", 403, self.anonymous.get_object, Bucket="acl", Key="secret")
        yield self.assert_error("AccessDenied", 403, self.bob.put_object_acl, Bucket="acl", Key="secret", ACL="public-read")

    @defer.inlineCallbacks
    def test_grant_headers_on_put(self):
        """
        Grant headers on PutObject: several grantees, by id and by URI.
        """
        yield in_thread(
            self.s3.put_object,
            Bucket="acl",
            Key="g",
            Body=b"g",
            GrantRead=f'id="{self.bob_id}", uri="{ALL_USERS}"',
            GrantFullControl=f'id="{self.alice_id}"',
        )
        acl = yield in_thread(self.s3.get_object_acl, Bucket="acl", Key="g")
        self.assertEqual(grants_of(acl), sorted([(self.bob_id, "READ"), (ALL_USERS, "READ"), (self.alice_id, "FULL_CONTROL")]))
        body = yield self.read_as(self.anonymous, "g")
        self.assertEqual(body, b"g")

    @defer.inlineCallbacks
    def test_bucket_grant_write(self):
        """
        GrantWrite on the bucket lets bob put and delete; GrantRead lets him
        list.
        """
        yield in_thread(
            self.s3.put_bucket_acl,
            Bucket="acl",
            GrantWrite=f'id="{self.bob_id}"',
            GrantRead=f'id="{self.bob_id}"',
            GrantFullControl=f'id="{self.alice_id}"',
        )
        yield in_thread(self.bob.put_object, Bucket="acl", Key="bobs", Body=b"b")
        listing = yield in_thread(self.bob.list_objects_v2, Bucket="acl")
        self.assertEqual([c["Key"] for c in listing["Contents"]], ["bobs", "secret"])
        yield in_thread(self.bob.delete_object, Bucket="acl", Key="secret")
        yield self.assert_error("NoSuchKey", 404, self.s3.get_object, Bucket="acl", Key="secret")

    @defer.inlineCallbacks
    def test_policy_document(self):
        """
        PutObjectAcl with an AccessControlPolicy sets exactly its grants.
        """
        policy = {
            "Owner": {"ID": self.alice_id},
            "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": self.alice_id}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "CanonicalUser", "ID": self.bob_id}, "Permission": "READ"},
                {"Grantee": {"Type": "Group", "URI": AUTHENTICATED_USERS}, "Permission": "READ_ACP"},
            ],
        }
        yield in_thread(self.s3.put_object_acl, Bucket="acl", Key="secret", AccessControlPolicy=policy)
        acl = yield in_thread(self.s3.get_object_acl, Bucket="acl", Key="secret")
        self.assertEqual(
            grants_of(acl), sorted([(self.alice_id, "FULL_CONTROL"), (self.bob_id, "READ"), (AUTHENTICATED_USERS, "READ_ACP")])
        )
        body = yield self.read_as(self.bob)
        self.assertEqual(body, b"s3cr3t")
        bob_view = yield in_thread(self.bob.get_object_acl, Bucket="acl", Key="secret")
        self.assertEqual(len(bob_view["Grants"]), 3)

    @defer.inlineCallbacks
    def test_bucket_policy_document(self):
        """
        PutBucketAcl with a document: bob gets READ and can list.
        """
        policy = {
            "Owner": {"ID": self.alice_id},
            "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": self.bob_id}, "Permission": "READ"}],
        }
        yield in_thread(self.s3.put_bucket_acl, Bucket="acl", AccessControlPolicy=policy)
        listing = yield in_thread(self.bob.list_objects, Bucket="acl")
        self.assertEqual([c["Key"] for c in listing["Contents"]], ["secret"])
        yield self.assert_error("AccessDenied", 403, self.bob.put_object, Bucket="acl", Key="x", Body=b"")

    def test_owner_change(self):
        """
        A document naming another owner is refused.
        """
        policy = {"Owner": {"ID": self.bob_id}, "Grants": []}
        return self.assert_error("AccessDenied", 403, self.s3.put_object_acl, Bucket="acl", Key="secret", AccessControlPolicy=policy)

    def test_email_grantee(self):
        """
        A grant by e-mail address is UnresolvableGrantByEmailAddress.
        """
        return self.assert_error(
            "UnresolvableGrantByEmailAddress", 400, self.s3.put_object_acl, Bucket="acl", Key="secret", GrantRead='emailAddress="bob@example.com"'
        )

    def test_canned_and_grants(self):
        """
        A canned ACL together with grant headers is refused.
        """
        return self.assert_error(
            "InvalidRequest", 400, self.s3.put_object_acl, Bucket="acl", Key="secret", ACL="private", GrantRead=f'id="{self.bob_id}"'
        )

    @defer.inlineCallbacks
    def test_grantee_display_name(self):
        """
        A grant by id to an account that has not yet called Walrus names the
        grantee's display name, as S3 does.
        """
        yield in_thread(self.s3.put_object_acl, Bucket="acl", Key="secret", GrantRead=f'id="{self.bob_id}"')
        acl = yield in_thread(self.s3.get_object_acl, Bucket="acl", Key="secret")
        self.assertEqual([g["Grantee"].get("DisplayName") for g in acl["Grants"]], ["bob"])


    def test_unknown_account_grantee(self):
        """
        A grant to a canonical id no account has is InvalidArgument.
        """
        return self.assert_error(
            "InvalidArgument", 400, self.s3.put_object_acl, Bucket="acl", Key="secret", GrantRead='id="000000000000"'
        )



class DeniedTests(AclTestCase):
    """
    What bob and anonymous callers may not do to alice's private things.
    """

    @defer.inlineCallbacks
    def test_bob_denied(self):
        """
        Bob cannot read, head, list, write, delete, or see or change ACLs.
        """
        bob = self.bob
        yield self.assert_error("AccessDenied", 403, bob.get_object, Bucket="acl", Key="secret")
        yield self.assert_error("403", 403, bob.head_object, Bucket="acl", Key="secret")
        yield self.assert_error("AccessDenied", 403, bob.list_objects, Bucket="acl")
        yield self.assert_error("AccessDenied", 403, bob.put_object, Bucket="acl", Key="secret", Body=b"overwritten")
        yield self.assert_error("AccessDenied", 403, bob.delete_object, Bucket="acl", Key="secret")
        yield self.assert_error("AccessDenied", 403, bob.get_object_acl, Bucket="acl", Key="secret")
        yield self.assert_error("AccessDenied", 403, bob.get_bucket_acl, Bucket="acl")
        yield self.assert_error("AccessDenied", 403, bob.put_bucket_acl, Bucket="acl", ACL="public-read")
        yield self.assert_error("AccessDenied", 403, bob.put_object_acl, Bucket="acl", Key="secret", ACL="public-read")
        yield self.assert_error("AccessDenied", 403, bob.create_multipart_upload, Bucket="acl", Key="m")
        body = yield self.read_as(self.s3)
        self.assertEqual(body, b"s3cr3t")

    @defer.inlineCallbacks
    def test_anonymous_denied(self):
        """
        Anonymous callers cannot read, list, write or delete.
        """
        anonymous = self.anonymous
        yield self.assert_error("AccessDenied", 403, anonymous.get_object, Bucket="acl", Key="secret")
        yield self.assert_error("AccessDenied", 403, anonymous.list_objects, Bucket="acl")
        yield self.assert_error("AccessDenied", 403, anonymous.put_object, Bucket="acl", Key="x", Body=b"")
        yield self.assert_error("AccessDenied", 403, anonymous.delete_object, Bucket="acl", Key="secret")

    @defer.inlineCallbacks
    def test_missing_key_in_private_bucket(self):
        """
        A missing key in a bucket bob cannot list is AccessDenied to him, not
        NoSuchKey (which would tell him the key is not there).
        """
        yield self.assert_error("AccessDenied", 403, self.bob.get_object, Bucket="acl", Key="not-there")

    @defer.inlineCallbacks
    def test_missing_key_in_listable_bucket(self):
        """
        In a bucket bob can list, a missing key is NoSuchKey to him.
        """
        yield in_thread(self.s3.put_bucket_acl, Bucket="acl", ACL="authenticated-read")
        yield self.assert_error("NoSuchKey", 404, self.bob.get_object, Bucket="acl", Key="not-there")

    @defer.inlineCallbacks
    def test_admin_reads_everything(self):
        """
        The privileged eucalyptus account reads alice's private object.
        """
        body = yield self.read_as(self.walrus.client("eucalyptus"))
        self.assertEqual(body, b"s3cr3t")
