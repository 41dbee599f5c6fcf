Walrus is an S3-compatible object store: the S3 REST API (path-style at / on
WALRUS_PORT and below /services/Walrus, virtual-host style), SigV2 and SigV4
(headers, presigned URLs, aws-chunked bodies), ACLs, versioning, multipart
uploads, CORS, the S3 SOAP API, and a storage engine that fsyncs data before it
commits metadata.  `euca-admin add-account NAME` makes user accounts.
