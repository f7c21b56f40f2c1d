/*
 * The on-segment format: the numbers of doc/FORMAT.md, mirroring the Java
 * descriptors (slabread --constants prints them, and a test compares them
 * with the Java constants, so the two cannot drift apart).
 */
#ifndef SLAB_FORMAT_H
#define SLAB_FORMAT_H

/* Segment header (HeaderDescriptor) */
#define HDR_MAGIC 0x3147455342414C53ULL
#define HDR_FORMAT_VERSION 6
#define HDR_MAGIC_OFFSET 0
#define HDR_VERSION_OFFSET 8
#define HDR_HEADER_LENGTH_OFFSET 12
#define HDR_CAPACITY_OFFSET 16
#define HDR_MAP_BITS_OFFSET 24
#define HDR_VEC_BITS_OFFSET 28
#define HDR_CLASS_COUNT_OFFSET 32
#define HDR_PAGE_SIZE_OFFSET 36
#define HDR_CHECKSUM_OFFSET 48
#define HDR_FIXED_LENGTH 48
#define HDR_FRONTIER_OFFSET 64
#define HDR_COMMITTED_OFFSET 136
#define HDR_INTERN_TABLE_OFFSET 256
#define HDR_ROOT_TABLE_OFFSET 264
#define HDR_SWEEP_OFFSET 280
#define HDR_READERS_OFFSET 768
#define HDR_PAGE_SIZE 4096
#define HDR_HEADER_LENGTH 4096
#define HDR_MIN_CAPACITY (1ULL << 20)
#define HDR_MAX_CAPACITY (1ULL << 40)

/* fcntl lock ranges (LockDescriptor) */
#define FILE_LOCK_OFFSET 0
#define FILE_LOCK_LENGTH (1ULL << 62)
#define READ_ONLY_LOCK_OFFSET (1ULL << 62)
#define READ_ONLY_LOCK_LENGTH 1

/* Allocator (AllocatorDescriptor, SizeClasses) */
#define BLOCK_HEADER_LENGTH 8
#define BLOCK_ALIGNMENT 16
#define PAGE_LENGTH 16384
#define PAGE_WORD_LENGTH 8
#define PAGE_SHIFT 14
#define REFCOUNT_MASK 0xFFFFFFFFULL
#define TYPE_SHIFT 32
#define STATE_SHIFT 40
#define CLASS_SHIFT 48
#define STATE_LIVE 0xA1
#define SIZE_CLASS_COUNT 156

/* Block types (BlockTypes) */
#define T_BLOB 1
#define T_INTERNED 2
#define T_COLL 4
#define T_MAP_NODE 5
#define T_MAP_COLLISION 6
#define T_SET_NODE 7
#define T_SET_COLLISION 8
#define T_VEC_BRANCH 9
#define T_VEC_LEAF 10
#define T_ROOT_TABLE 11
#define T_BOX 14
#define T_META_SYMBOL 16
#define T_VEC_PRIM_LEAF 17

/* Tags (Tags) */
#define TAG_NIL 0
#define TAG_FALSE 1
#define TAG_TRUE 2
#define TAG_LONG 3
#define TAG_DOUBLE 4
#define TAG_FLOAT 5
#define TAG_CHAR 6
#define TAG_BIGINT_SMALL 7
#define TAG_BIGINTEGER_SMALL 8
#define TAG_DATE 9
#define TAG_KEYWORD 10
#define TAG_SYMBOL 11
#define TAG_STR_INLINE 16
#define TAG_STR_INLINE_MAX 8
#define TAG_STRING 32
#define TAG_BIGINT 33
#define TAG_BIGINTEGER 34
#define TAG_BIGDECIMAL 35
#define TAG_RATIO 36
#define TAG_UUID 37
#define TAG_INSTANT 38
#define TAG_SYMBOL_META 39
#define TAG_MAP 48
#define TAG_SET 49
#define TAG_VECTOR 50
#define TAG_LIST 51
#define TAG_VECTOR_OF 52

/* Blobs (BlobDescriptor) */
#define BLOB_HASH_OFFSET 8
#define BLOB_LENGTH_OFFSET 12
#define BLOB_UTF16_FLAG 0x80000000U
#define BLOB_STRING_DATA_OFFSET 16
#define BLOB_BIGINT_DATA_OFFSET 16
#define BLOB_BIGDEC_SCALE_OFFSET 16
#define BLOB_BIGDEC_DATA_OFFSET 24
#define BLOB_RATIO_DEN_LENGTH_OFFSET 16
#define BLOB_RATIO_DATA_OFFSET 24
#define BLOB_UUID_MSB_OFFSET 16
#define BLOB_UUID_LSB_OFFSET 24
#define BLOB_UUID_LENGTH 32
#define BLOB_INSTANT_NANOS_OFFSET 12
#define BLOB_INSTANT_SECONDS_OFFSET 16
#define BLOB_INSTANT_LENGTH 24

/* Interned keywords and symbols (InternDescriptor) */
#define INTERN_HASH_OFFSET 16
#define INTERN_KIND_OFFSET 20
#define INTERN_ENCODING_OFFSET 21
#define INTERN_NS_LENGTH_OFFSET 24
#define INTERN_NAME_LENGTH_OFFSET 28
#define INTERN_DATA_OFFSET 32
#define INTERN_KEYWORD 1
#define INTERN_SYMBOL 2
#define INTERN_UTF16 1

/* Symbols with metadata (MetaSymbolDescriptor) */
#define META_SYMBOL_HASH_OFFSET 8
#define META_SYMBOL_SYMBOL_OFFSET 16
#define META_SYMBOL_LENGTH 32

/* Boxes (BoxDescriptor) */
#define BOX_TAG_OFFSET 8
#define BOX_SEAL_OFFSET 12
#define BOX_PAYLOAD_OFFSET 16
#define BOX_LENGTH 24

/* Collection blocks (CollDescriptor) */
#define COLL_KIND_OFFSET 8
#define COLL_SHIFT_OFFSET 10
#define COLL_ELEM_OFFSET 11
#define COLL_HASH_OFFSET 12
#define COLL_COUNT_OFFSET 16
#define COLL_SEAL_OFFSET 20
#define COLL_ROOT_OFFSET 24
#define COLL_TAIL_OFFSET 32
#define COLL_LENGTH 48

/* Map nodes (MapNodeDescriptor) */
#define MAP_DATAMAP_OFFSET 24
#define MAP_NODEMAP_OFFSET 28
#define MAP_COLLISION_HASH_OFFSET 24
#define MAP_COLLISION_COUNT_OFFSET 28
#define MAP_EDIT_OFFSET 32
#define MAP_ENTRIES_OFFSET 40
#define MAP_ENTRY_HASH_OFFSET 0
#define MAP_ENTRY_KEY_TAG_OFFSET 4
#define MAP_ENTRY_VALUE_TAG_OFFSET 5
#define MAP_ENTRY_KEY_OFFSET 8
#define MAP_ENTRY_VALUE_OFFSET 16
#define MAP_ENTRY_LENGTH 24
#define SET_ENTRY_LENGTH 16

/* Vector nodes (VecNodeDescriptor) */
#define VEC_NODE_WORD_OFFSET 24
#define VEC_SLOTS_OFFSET 32
#define VEC_CAPACITY_MASK 0xFF
#define VEC_ELEM_SHIFT 8
#define VEC_ELEM_MASK 0xFF
#define VEC_SEAL_SHIFT 16
#define VEC_UNSEALED_MASK 0xFFFFULL   /* the node word's bits a seal covers: capacity and element type */

/* Primitive leaves of vector-of (PrimLeafDescriptor) */
#define PRIM_ELEMENTS_OFFSET 32
#define ELEM_LONG 1
#define ELEM_DOUBLE 2
#define ELEM_INT 3
#define ELEM_FLOAT 4
#define ELEM_SHORT 5
#define ELEM_CHAR 6
#define ELEM_BYTE 7
#define ELEM_BOOLEAN 8
#define ELEM_MAX 8

/* Seals (SealDescriptor) */
#define SEAL_FLAG 0x8000000000000000ULL
#define SEAL_SEED 0x9E3779B97F4A7C15ULL
#define SEAL_MUL 0xFF51AFD7ED558CCDULL
#define SEAL_FIN 0xC4CEB9FE1A85EC53ULL
#define SEAL_LENGTH 4
#define NODE_SEAL_START 24

/* Named roots (SharingDescriptor) */
#define ROOTS_CAPACITY_OFFSET 8
#define ROOTS_ENTRIES_OFFSET 64
#define ROOTS_ENTRY_NAME_OFFSET 0
#define ROOTS_ENTRY_CELL_OFFSET 8
#define ROOTS_ENTRY_LENGTH 16

/* Slot states (SharingDescriptor) and the reader table (ReaderDescriptor) */
#define STATE_FREE 0
#define STATE_CLAIMING 1
#define STATE_LIVE_SLOT 2
#define STATE_RECOVERING 3
#define STATE_MASK 0xFF
#define READERS 16
#define READER_STATE_OFFSET 0
#define READER_PID_OFFSET 8
#define READER_START_OFFSET 16
#define READER_HAZARD_OFFSET 24
#define READER_PINS_OFFSET 64
#define READER_PINS 16
#define READER_SLOT_LENGTH 192
#define READER_LEFT 4
#define PIN_RETURNED 1

/* The trailer of a snapshot file (SnapshotDescriptor): the file ends at its frontier, then these 24 bytes. */
#define SNAP_TRAILER_MAGIC 0x31504E53424C4153ULL
#define SNAP_TRAILER_MAGIC_OFFSET 0
#define SNAP_TRAILER_COVERED_OFFSET 8
#define SNAP_TRAILER_CHECKSUM_OFFSET 16
#define SNAP_TRAILER_LENGTH 24

#endif
