"""
The SC's record files.
"""

import os
from dataclasses import asdict

from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.services.sc.records import RecordStore, SnapshotRecord, VolumeRecord, now
from tests.services.sc.storage import OTHER, SNAPSHOT, VOLUME


class RecordStoreTests(SynchronousTestCase):
    """
    L{RecordStore}.
    """

    def setUp(self):
        self.directory = self.mktemp()
        self.store = RecordStore(self.directory)

    def test_round_trip(self):
        """
        Saved records load back equal, in private files; removed ones are
        gone, and removing twice does nothing.
        """
        volume = VolumeRecord(VOLUME, 2, "available", now(), token="t", exports=["10.0.0.1"])
        snapshot = SnapshotRecord(SNAPSHOT, VOLUME, "completed", now(), 2, bucket="b", key="k", progress=100)
        for record in (volume, snapshot):
            self.store.save(record.kind, record.name, asdict(record))
        self.assertEqual(self.store.load(), ({VOLUME: volume}, {SNAPSHOT: snapshot}))
        path = os.path.join(self.directory, "volumes", VOLUME + ".json")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.store.remove("volumes", VOLUME)
        self.store.remove("volumes", VOLUME)
        self.assertEqual(self.store.load(), ({}, {SNAPSHOT: snapshot}))

    def test_bad_files(self):
        """
        A file that is not a record, or names another id, is left out (and
        left where it is); temporary files are not read.
        """
        good = VolumeRecord(VOLUME, 1, "available", now())
        self.store.save("volumes", VOLUME, asdict(good))
        directory = os.path.join(self.directory, "volumes")
        for name, text in ((OTHER + ".json", "{not json"), ("vol-00001111.json", '{"volume_id": "vol-00002222"}'),
                           ("vol-00003333.json", '{"volume_id": "vol-00003333", "size": 1, "status": "x", '
                                                 '"create_time": "", "future_field": 1}'),
                           (".vol-00004444.json.abc.tmp", "{}")):  # fmt: skip
            with open(os.path.join(directory, name), "w") as f:
                f.write(text)
        volumes, _ = self.store.load()
        self.assertEqual(sorted(volumes), ["vol-00003333", VOLUME])
        self.assertTrue(os.path.exists(os.path.join(directory, OTHER + ".json")))

    def test_setting(self):
        """
        A setting is made once and kept.
        """
        self.assertEqual(self.store.setting("bucket", lambda: "first"), "first")
        self.assertEqual(self.store.setting("bucket", lambda: "second"), "first")
        self.assertEqual(RecordStore(self.directory).setting("bucket", lambda: "third"), "first")
