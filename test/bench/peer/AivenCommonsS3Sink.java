package coldstore.bench.peer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkConnector;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.client.builder.AwsClientBuilder.EndpointConfiguration;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import com.amazonaws.services.s3.model.AbortMultipartUploadRequest;
import com.amazonaws.services.s3.model.CompleteMultipartUploadRequest;
import com.amazonaws.services.s3.model.InitiateMultipartUploadRequest;
import com.amazonaws.services.s3.model.PartETag;
import com.amazonaws.services.s3.model.UploadPartRequest;

import io.aiven.kafka.connect.common.config.AivenCommonConfig;
import io.aiven.kafka.connect.common.config.CompressionType;
import io.aiven.kafka.connect.common.config.OutputFieldType;
import io.aiven.kafka.connect.common.grouper.RecordGrouper;
import io.aiven.kafka.connect.common.grouper.RecordGrouperFactory;
import io.aiven.kafka.connect.common.output.OutputWriter;

/**
 * The benchmark's stand-in for Aiven's S3 sink connector, which is not on Maven Central.
 * Everything that decides what is written (grouping into files, file.max.records, file names,
 * CSV/JSONL fields and encodings, gzip) is Aiven's own code from
 * io.aiven:commons-for-apache-kafka-connect. Only the S3 part is ours, and it follows how
 * Aiven's S3 sink 2.x works, so time and memory behave alike: records are held in the grouper
 * until Connect's offset flush, then each file is streamed through the output writer into a
 * multipart upload with a fixed-size part buffer, one file after another, on the task thread.
 * Property names are Aiven's (aws.*, file.*, format.*).
 */
public final class AivenCommonsS3Sink {
    private AivenCommonsS3Sink() {
    }

    public static final class Config extends AivenCommonConfig {
        static final int DEFAULT_PART_SIZE = 5 * 1024 * 1024; // Aiven's default

        static ConfigDef definition() {
            final ConfigDef def = new ConfigDef()
                .define("aws.access.key.id", ConfigDef.Type.PASSWORD, ConfigDef.Importance.HIGH, "access key")
                .define("aws.secret.access.key", ConfigDef.Type.PASSWORD, ConfigDef.Importance.HIGH, "secret key")
                .define("aws.s3.bucket.name", ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "bucket")
                .define("aws.s3.endpoint", ConfigDef.Type.STRING, null, ConfigDef.Importance.LOW, "endpoint override (path-style)")
                .define("aws.s3.region", ConfigDef.Type.STRING, "us-east-1", ConfigDef.Importance.MEDIUM, "region")
                .define("aws.s3.part.size.bytes", ConfigDef.Type.INT, DEFAULT_PART_SIZE, ConfigDef.Range.atLeast(1), ConfigDef.Importance.MEDIUM, "multipart part size")
                .define(FILE_NAME_TEMPLATE_CONFIG, ConfigDef.Type.STRING, null, ConfigDef.Importance.MEDIUM, "object key template")
                .define(FILE_MAX_RECORDS, ConfigDef.Type.INT, 0, ConfigDef.Range.atLeast(0), ConfigDef.Importance.MEDIUM, "records per file, 0 = unlimited")
                .define(FILE_NAME_TIMESTAMP_TIMEZONE, ConfigDef.Type.STRING, "UTC", ConfigDef.Importance.LOW, "time zone of {{timestamp}}")
                .define(FILE_NAME_TIMESTAMP_SOURCE, ConfigDef.Type.STRING, "wallclock", ConfigDef.Importance.LOW, "source of {{timestamp}}");
            addCompressionTypeConfig(def, CompressionType.GZIP);
            addOutputFieldsFormatConfigGroup(def, OutputFieldType.VALUE);
            addKafkaBackoffPolicy(def);
            return def;
        }

        Config(final Map<String, String> props) {
            super(definition(), props);
        }
    }

    public static final class Connector extends SinkConnector {
        private Map<String, String> props;

        @Override
        public void start(final Map<String, String> props) {
            new Config(props); // fail the connector, not only its tasks, on a bad config
            this.props = props;
        }

        @Override
        public Class<? extends Task> taskClass() {
            return SinkTaskImpl.class;
        }

        @Override
        public List<Map<String, String>> taskConfigs(final int maxTasks) {
            final List<Map<String, String>> configs = new ArrayList<>();
            for (int i = 0; i < maxTasks; i++) {
                configs.add(props);
            }
            return configs;
        }

        @Override
        public void stop() {
        }

        @Override
        public ConfigDef config() {
            return Config.definition();
        }

        @Override
        public String version() {
            return "commons-0.12.0";
        }
    }

    public static final class SinkTaskImpl extends SinkTask {
        private Config config;
        private AmazonS3 s3;
        private RecordGrouper grouper;

        @Override
        public void start(final Map<String, String> props) {
            config = new Config(props);
            final AmazonS3ClientBuilder builder = AmazonS3ClientBuilder.standard()
                .withCredentials(new AWSStaticCredentialsProvider(new BasicAWSCredentials(
                    config.getPassword("aws.access.key.id").value(),
                    config.getPassword("aws.secret.access.key").value())));
            final String endpoint = config.getString("aws.s3.endpoint");
            if (endpoint == null) {
                builder.withRegion(config.getString("aws.s3.region"));
            } else {
                builder.withEndpointConfiguration(new EndpointConfiguration(endpoint, config.getString("aws.s3.region")))
                    .withPathStyleAccessEnabled(true);
            }
            s3 = builder.build();
            try {
                grouper = RecordGrouperFactory.newRecordGrouper(config);
            } catch (final Exception e) {
                throw new ConnectException("unsupported file name template " + config.getFilename(), e);
            }
            if (config.getKafkaRetryBackoffMs() != null) {
                context.timeout(config.getKafkaRetryBackoffMs());
            }
        }

        @Override
        public void put(final Collection<SinkRecord> records) {
            records.forEach(grouper::put);
        }

        @Override
        public void flush(final Map<TopicPartition, OffsetAndMetadata> offsets) {
            try {
                grouper.records().forEach(this::writeFile);
            } finally {
                grouper.clear();
            }
        }

        private void writeFile(final String key, final List<SinkRecord> records) {
            if (records.isEmpty()) {
                return;
            }
            try (OutputStream out = new MultipartOutputStream(s3, config.getString("aws.s3.bucket.name"), key,
                    config.getInt("aws.s3.part.size.bytes"));
                 OutputWriter writer = OutputWriter.builder()
                     .withCompressionType(config.getCompressionType())
                     .withExternalProperties(config.originalsStrings())
                     .withOutputFields(config.getOutputFields())
                     .withEnvelopeEnabled(config.envelopeEnabled())
                     .build(out, config.getFormatType())) {
                writer.writeRecords(records);
            } catch (final IOException e) {
                throw new ConnectException(e);
            }
        }

        @Override
        public void stop() {
            if (s3 != null) {
                s3.shutdown();
            }
        }

        @Override
        public String version() {
            return "commons-0.12.0";
        }
    }

    /** Fills a part-sized buffer and uploads it as the next part; the upload starts on the first byte. */
    static final class MultipartOutputStream extends OutputStream {
        private final AmazonS3 s3;
        private final String bucket;
        private final String key;
        private final ByteBuffer buffer;
        private final List<PartETag> parts = new ArrayList<>();
        private String uploadId;
        private boolean failed;
        private boolean closed;

        MultipartOutputStream(final AmazonS3 s3, final String bucket, final String key, final int partSize) {
            this.s3 = s3;
            this.bucket = bucket;
            this.key = key;
            this.buffer = ByteBuffer.allocate(partSize);
        }

        @Override
        public void write(final int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(final byte[] b, int off, int len) throws IOException {
            if (failed) {
                throw new IOException("upload of " + key + " failed");
            }
            if (len == 0) {
                return;
            }
            if (uploadId == null) {
                uploadId = s3.initiateMultipartUpload(new InitiateMultipartUploadRequest(bucket, key)).getUploadId();
            }
            while (len > 0) {
                final int n = Math.min(len, buffer.remaining());
                buffer.put(b, off, n);
                off += n;
                len -= n;
                if (!buffer.hasRemaining()) {
                    uploadPart();
                }
            }
        }

        private void uploadPart() throws IOException {
            try {
                parts.add(s3.uploadPart(new UploadPartRequest()
                    .withBucketName(bucket).withKey(key).withUploadId(uploadId)
                    .withPartNumber(parts.size() + 1).withPartSize(buffer.position())
                    .withInputStream(new ByteArrayInputStream(buffer.array(), 0, buffer.position())))
                    .getPartETag());
                buffer.clear();
            } catch (final RuntimeException e) {
                failed = true;
                s3.abortMultipartUpload(new AbortMultipartUploadRequest(bucket, key, uploadId));
                throw new IOException(e);
            }
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            if (uploadId == null || failed) {
                return;
            }
            if (buffer.position() > 0) {
                uploadPart();
            }
            s3.completeMultipartUpload(new CompleteMultipartUploadRequest(bucket, key, uploadId, parts));
        }
    }
}
