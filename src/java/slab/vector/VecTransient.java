package slab.vector;

import static slab.vector.VecNodeDescriptor.*;
import static slab.vector.VecNodes.*;

import java.lang.ref.Reference;

import slab.mem.KillPoints;
import slab.mem.Segment;
import slab.ref.CleanerAction;
import slab.ref.Handle;
import slab.ref.SingleUser;
import slab.ref.Heap;
import slab.ref.Ownership;
import slab.ref.RefCounts;
import slab.value.Encoder;
import slab.value.Slot;
import slab.value.Tags;

/**
 * A transient vector: the counterpart of PersistentVector.TransientVector,
 * with nodes in the segment.
 *
 * <p><b>When a node may be mutated in place.</b> Each transient takes a
 * fresh edit id from the segment ({@link Heap#newEdit}), unique across
 * processes and never reused. A node whose node word carries that id was
 * made by this transient, is reachable only through this transient's own
 * nodes (one count, held by its single parent or by the transient), and is
 * written in place. Any other node (sealed, see VecSeals) is shared with
 * published versions: it is copied first, the copy retains what the
 * original held, and the parent's count on the original is dropped.
 * {@link #persistent} seals every node carrying the id and ends the edit,
 * so every node the transient made becomes immutable from then on.
 *
 * <p>The transient owns one count on its root and one on its tail, recorded
 * in the process's ledger ({@link Ownership#own}) like a handle's. They live in
 * a small {@link Owned} object that the Cleaner action releases if the
 * transient is dropped without {@code persistent!}; the action never
 * references the transient. Each public method fences {@code this}.
 *
 * <p>A transient of a vector-of (elem not 0) casts each value as
 * clojure.core's vector-of does and writes it unboxed into primitive
 * leaves, which hold no counts: nothing is retained or released for them.
 *
 * <p>Like Clojure's, a transient is not safe for concurrent use by several
 * threads; handing it from thread to thread with a happens-before edge is fine.
 */
public final class VecTransient {
    private final Heap h;
    private final Ownership owners;
    private final Segment s;
    private final int bits, w, mask;
    private final int kind;
    /** A vector-of's element type, 0 for a vector or list of slots. */
    private final int elem;
    private final long edit;
    private final Owned owned;
    private final Owned cleanable;
    private final Slot slot = new Slot();
    /** Elements were validated by the caller (a bulk build): encode without walking them again. */
    private final boolean trusted;
    private int cnt;
    private int shift;
    private boolean ended;
    /** Out-parameter of popTail: the leaf taken out of the trie. */
    private long detached;
    /** The tail when this transient made it (so conj! may write it at once), else 0: a plain-field cache. */
    private long myTail;

    /** The counts a transient owns; also the Cleaner action, which must not reach the transient. */
    static final class Owned extends CleanerAction {
        volatile long root;
        volatile long tail;

        Owned(VecTransient owner, Ownership owners, long root, long tail) {
            super(owner, owners);
            this.root = root;
            this.tail = tail;
        }

        @Override
        protected void giveBack() {
            long r = root, t = tail;
            root = 0;
            tail = 0;
            owners.releaseOwnedMutable(r);
            owners.releaseOwnedMutable(t);
        }
    }

    private VecTransient(Heap h, int kind, int elem, long root, long tail, int cnt, int shift, boolean register,
                         boolean trusted) {
        this.h = h;
        this.user = new SingleUser(h.gate());
        this.owners = h.ownership();
        this.s = h.segment();
        this.bits = s.vecBits();
        this.w = 1 << bits;
        this.mask = w - 1;
        this.kind = kind;
        this.elem = elem;
        this.edit = h.newEdit();
        checkEdit(edit);
        this.owned = new Owned(register ? this : null, owners, root, tail);
        this.cnt = cnt;
        this.shift = shift;
        this.trusted = trusted;
        this.cleanable = register ? owned : null;
    }

    /** A transient over version r; it takes its own counts, r stays valid. */
    static VecTransient of(Handle r) {
        r.check();
        int g = r.heap.gate().enter();
        try {
            Heap h = r.heap;
            Ownership owners = h.ownership();
            RefCounts.retain(h, r.node);
            owners.ownMutable(r.node);
            RefCounts.retain(h, r.tail);
            owners.ownMutable(r.tail);
            return new VecTransient(h, r.kind, r.elem, r.node, r.tail, (int) r.count, r.shift, true, false);
        } finally {
            r.heap.gate().exit(g);
            Reference.reachabilityFence(r);
        }
    }

    /**
     * An empty transient for an internal bulk build that ends in persistent()
     * or abandon(), so it needs no Cleaner; trusted when the caller has
     * validated every element; elem is a vector-of's element type, else 0.
     */
    static VecTransient building(Heap h, int kind, int elem, boolean trusted) {
        return new VecTransient(h, kind, elem, 0, 0, 0, h.segment().vecBits(), false, trusted);
    }

    private void ensureEditable() {
        if (ended) throw new IllegalAccessError("Transient used after persistent! call");
        if (s.isClosed()) throw s.closedError();
    }

    // --- reads -------------------------------------------------------------------------

    private int countAlone() {
        ensureEditable();
        return cnt;
    }

    private Object nthAlone(int i) {
        ensureEditable();
        if (i < 0 || i >= cnt) throw new IndexOutOfBoundsException();
        try {
            int to = tailoff(cnt, bits);
            long t = owned.tail;
            if (i >= to) return elemValue(h, null, s, elem, t, capacity(s, t), i - to);
            return elemValue(h, null, s, elem, leafFor(s, owned.root, elem, shift, bits, i), w, i & mask);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    private Object nthAlone(int i, Object notFound) {
        ensureEditable();
        return i >= 0 && i < cnt ? nthAlone(i) : notFound;
    }

    // --- making nodes editable -----------------------------------------------------------

    private boolean editable(long node) { return node != 0 && editOf(s, node) == edit; }

    /** Records a count the transient itself now holds (root or tail). */
    private void take(long node) { owners.ownMutable(node); }

    /** Gives back a count the transient itself held (root or tail): erase the record, then release. */
    private void drop(long node) {
        if (node == 0) return;
        owners.disownMutable(node);
        RefCounts.release(h, node);
    }

    private long editableRoot() {
        long rt = owned.root;
        if (editable(rt)) return rt;
        long copy = rt == 0 ? newBranch(h, w, edit) : copyBranch(h, rt, w, -1, edit);
        owned.root = copy;
        take(copy);
        drop(rt);
        return copy;
    }

    /** The tail, copied to a full-capacity leaf of this edit first if needed. */
    private long editableTail() {
        if (myTail != 0) return myTail;
        long t = owned.tail;
        if (editable(t)) return myTail = t;
        int tc = cnt - tailoff(cnt, bits);
        long copy = t == 0 ? newLeaf(h, elem, w, edit) : copyLeaf(h, elem, t, capacity(s, t), tc, w, -1, edit);
        owned.tail = copy;
        myTail = copy;
        take(copy);
        drop(t);
        return copy;
    }

    /** Child sub of the editable branch parent, made editable. */
    private long editableChild(long parent, int sub, boolean leaf) {
        long ch = child(s, parent, sub);
        if (editable(ch)) return ch;
        long copy = leaf ? copyLeaf(h, elem, ch, w, w, w, -1, edit) : copyBranch(h, ch, w, -1, edit);
        setChild(s, parent, sub, copy);
        RefCounts.release(h, ch);
        return copy;
    }

    private long editableLeafFor(int i) {
        long node = editableRoot();
        for (int level = shift; level > 0; level -= bits)
            node = editableChild(node, (i >>> level) & mask, level == bits);
        return node;
    }

    // --- conj! ---------------------------------------------------------------------------

    private void conjAlone(Object v) {
        if (!conjInPlace(v)) conjAny(v);
    }

    /**
     * The common case, kept small so that it inlines: a long (or a
     * vector-of's element) into a tail this transient owns that has room
     * ((cnt & mask) != 0: not full). Allocates nothing and moves no count,
     * so it needs no pass through the write gate (see {@link SingleUser}).
     * False when v needs the general path.
     */
    private boolean conjInPlace(Object v) {
        int tc = cnt & mask;
        long t = myTail;
        if (tc == 0 || t == 0 || ended || s.isClosed()) return false;
        if (elem != 0) {                                     // a vector-of's element, cast as clojure.core casts it
            PrimElems.write(s, elem, t, tc, PrimElems.coerce(elem, v));
        } else if (v instanceof Long l) {
            writeSlot(s, t, w, tc, Tags.LONG, l);
        } else {
            return false;
        }
        cnt++;
        Reference.reachabilityFence(this);
        return true;
    }

    private void conjAny(Object v) {
        ensureEditable();
        int tag;
        long payload;
        if (elem != 0) {
            tag = Tags.NIL;                                  // bits of an unboxed element: nothing counted
            payload = PrimElems.coerce(elem, v);
        } else if (v instanceof Long l) {                    // the common case, without the encoder
            tag = Tags.LONG;
            payload = l;
        } else {
            if (trusted) Encoder.encodeTrusted(h, v, slot);
            else Encoder.encode(h, v, slot);
            tag = slot.tag;
            payload = slot.payload;
        }
        try {
            int tc = cnt - tailoff(cnt, bits);
            long t = myTail;
            if (tc < w && t != 0) {                          // room in a tail this transient owns
                writeElem(s, elem, t, w, tc, tag, payload);
                cnt++;
            } else {
                conjSlot(tag, payload);
            }
        } catch (RuntimeException | Error e) {
            RefCounts.releaseSlot(h, tag, payload);
            throw e;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Appends an encoded slot; its count passes to the vector only when this returns normally. */
    private void conjSlot(int tag, long payload) {
        int tc = cnt - tailoff(cnt, bits);
        if (tc < w) {
            writeElem(s, elem, editableTail(), w, tc, tag, payload);
            cnt++;
            return;
        }
        if (cnt == Integer.MAX_VALUE) throw new IllegalStateException("slab: a vector holds at most 2^31-1 elements");
        long newTail = newLeaf(h, elem, w, edit);
        long oldTail = owned.tail;
        try {
            if ((cnt >>> bits) > (1L << shift)) {           // the root is full: grow a level
                long root = newBranch(h, w, edit);
                try {
                    setChild(s, root, 1, pathTo(shift, oldTail));
                } catch (RuntimeException | Error e) {
                    RefCounts.release(h, root);
                    throw e;
                }
                long old = owned.root;
                setChild(s, root, 0, old);                  // takes over our count on the old root
                owned.root = root;
                take(root);
                owners.disownMutable(old);
                shift += bits;
            } else {
                pushTail(shift, editableRoot(), oldTail);
            }
        } catch (RuntimeException | Error e) {
            RefCounts.release(h, newTail);
            throw e;
        }
        owned.tail = newTail;
        myTail = newTail;
        take(newTail);
        owners.disownMutable(oldTail);                           // our count on it went to the trie
        writeElem(s, elem, newTail, w, 0, tag, payload);
        cnt++;
    }

    /**
     * Inserts leaf where index cnt-1 belongs under the editable branch
     * parent, handing it the transient's count on leaf. Every allocation
     * happens before leaf is linked, so a failure leaves that count with
     * the transient and the tree as it was (made editable, same contents).
     */
    private void pushTail(int level, long parent, long leaf) {
        int sub = ((cnt - 1) >>> level) & mask;
        if (level == bits) {
            setChild(s, parent, sub, leaf);
        } else if (child(s, parent, sub) != 0) {
            pushTail(level - bits, editableChild(parent, sub, false), leaf);
        } else {
            setChild(s, parent, sub, pathTo(level - bits, leaf));
        }
    }

    /**
     * New branches of this edit from level down to leaf (leaf itself at
     * level 0), each the first child of the one above. The chain takes over
     * the caller's count on leaf, which is linked last, after the
     * allocations that could fail.
     */
    private long pathTo(int level, long leaf) {
        if (level == 0) return leaf;
        long top = newBranch(h, w, edit), bottom = top;
        try {
            for (int l = level - bits; l > 0; l -= bits) {
                long b = newBranch(h, w, edit);
                setChild(s, bottom, 0, b);
                bottom = b;
            }
        } catch (RuntimeException | Error e) {
            RefCounts.release(h, top);
            throw e;
        }
        setChild(s, bottom, 0, leaf);
        return top;
    }

    // --- assoc! --------------------------------------------------------------------------

    private void assocNAlone(int i, Object v) {
        ensureEditable();
        if (i == cnt) {
            conjAlone(v);
            return;
        }
        if (i < 0 || i > cnt) throw new IndexOutOfBoundsException();
        if (elem != 0) {
            assocPrim(i, PrimElems.coerce(elem, v));
            return;
        }
        Encoder.encode(h, v, slot);
        int tag = slot.tag;
        long payload = slot.payload;
        boolean stored = false;
        try {
            int to = tailoff(cnt, bits);
            long leaf = i >= to ? editableTail() : editableLeafFor(i);
            int j = i >= to ? i - to : i & mask;
            int oldTag = VecNodes.tag(s, leaf, w, j);
            long oldPayload = VecNodes.payload(s, leaf, j);
            writeSlot(s, leaf, w, j, tag, payload);
            stored = true;
            RefCounts.releaseSlot(h, oldTag, oldPayload);
        } catch (RuntimeException | Error e) {
            if (!stored) RefCounts.releaseSlot(h, tag, payload);
            throw e;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** assoc! into a vector-of: no counts to move, so the element is just written. */
    private void assocPrim(int i, long value) {
        try {
            int to = tailoff(cnt, bits);
            long leaf = i >= to ? editableTail() : editableLeafFor(i);
            PrimElems.write(s, elem, leaf, i >= to ? i - to : i & mask, value);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    // --- pop! ----------------------------------------------------------------------------

    private void popAlone() {
        ensureEditable();
        if (cnt == 0) throw new IllegalStateException("Can't pop empty vector");
        try {
            if (cnt == 1) {
                long t = owned.tail, rt = owned.root;
                owned.tail = 0;
                myTail = 0;
                owned.root = 0;
                cnt = 0;
                shift = bits;
                drop(t);
                drop(rt);
                return;
            }
            int to = tailoff(cnt, bits);
            if (cnt - 1 > to) {                               // the tail keeps at least one element
                long t = editableTail();
                int j = cnt - 1 - to;
                if (elem != 0) {                              // elements past the end are zero
                    PrimElems.write(s, elem, t, j, 0);
                    cnt--;
                    return;
                }
                int oldTag = VecNodes.tag(s, t, w, j);
                long oldPayload = VecNodes.payload(s, t, j);
                s.putByte(t + tagOffset(w, j), (byte) Tags.NIL);
                cnt--;
                RefCounts.releaseSlot(h, oldTag, oldPayload);
                return;
            }
            // The tail empties: the last trie leaf becomes the tail.
            long rt = editableRoot();
            detached = 0;
            if (popTail(shift, rt)) {
                owned.root = 0;
                drop(rt);
                rt = 0;
            }
            if (shift > bits && rt != 0 && child(s, rt, 1) == 0) {
                long only = child(s, rt, 0);
                setChild(s, rt, 0, 0);                       // rt's count on it moves to the transient
                owned.root = only;
                take(only);
                drop(rt);
                shift -= bits;
            }
            long oldTail = owned.tail;
            owned.tail = detached;                           // the count the trie held moves to the transient
            myTail = 0;
            take(detached);
            cnt--;
            drop(oldTail);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Takes the leaf holding index cnt-2 out from under the editable branch
     * node (into {@link #detached}); true when node is left with no children.
     */
    private boolean popTail(int level, long node) {
        int sub = ((cnt - 2) >>> level) & mask;
        if (level > bits) {
            long ch = editableChild(node, sub, false);
            if (popTail(level - bits, ch)) {
                setChild(s, node, sub, 0);
                RefCounts.release(h, ch);
                return sub == 0;
            }
            return false;
        }
        detached = child(s, node, sub);
        setChild(s, node, sub, 0);
        return sub == 0;
    }

    // --- persistent! ---------------------------------------------------------------------

    /** Ends the edit and returns the version, which takes over the transient's counts. */
    private Handle persistentAlone() {
        ensureEditable();
        try {
            long t = owned.tail;
            int tc = cnt - tailoff(cnt, bits);
            if (t != 0 && capacity(s, t) != tc) {
                // Published tails hold exactly their elements. Slots that hold counts
                // move when the tail is ours alone; unboxed elements are copied.
                boolean move = elem == 0 && editable(t) && h.allocator().refcount(t) == 1;
                // Recorded in the ledger before it is sealed only while it carries this edit id
                // (a moved tail, filled after take), so a sweep after a kill here accepts it.
                long trimmed = move ? newLeaf(h, 0, tc, edit)
                    : VecSeals.seal(s, copyLeaf(h, elem, t, capacity(s, t), tc, tc, -1, 0));
                take(trimmed);
                if (move) {
                    s.copy(t + payloadOffset(0), trimmed + payloadOffset(0), (long) PAYLOAD_LENGTH * tc);
                    s.copy(t + tagOffset(w, 0), trimmed + tagOffset(tc, 0), tc);
                    s.fill(t + tagOffset(w, 0), w, (byte) Tags.NIL);   // the slots moved; drop none of them
                    VecSeals.seal(s, trimmed);
                }
                owned.tail = trimmed;
                myTail = 0;
                drop(t);
            }
            // Sealed before anything publishes them; a kill meanwhile leaves them recorded as
            // mutable, so the sweep frees them unread.
            VecSeals.sealTransient(s, owned.root, shift, bits, edit);
            VecSeals.sealTransient(s, owned.tail, 0, bits, edit);
            ended = true;
            long root = owned.root, tail = owned.tail;
            owned.root = 0;
            owned.tail = 0;
            if (cleanable != null) cleanable.clean();
            // The counts pass from this transient's records to the handle's: erased
            // first, so a kill between leaks them (the sweep), never doubles them.
            KillPoints.step("persistent");
            owners.disownMutable(root);
            KillPoints.step("persistent");
            owners.disownMutable(tail);
            KillPoints.step("persistent");
            Handle r = new Handle(h, kind, elem, root, tail, cnt, shift, 0, false);
            KillPoints.step("persistent");
            return r;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Ends the edit and releases everything (a failed internal build). */
    void abandonAlone() {
        ended = true;
        owned.clean();
    }

    // --- one user at a time (see SingleUser) ------------------------------------------

    private final SingleUser user;

    private void enter() { user.enter(); }

    private void exit() { user.exit(); }

    public int count() {
        enter();
        try {
            return countAlone();
        } finally {
            exit();
        }
    }

    public Object nth(int i) {
        enter();
        try {
            return nthAlone(i);
        } finally {
            exit();
        }
    }

    public Object nth(int i, Object notFound) {
        enter();
        try {
            return nthAlone(i, notFound);
        } finally {
            exit();
        }
    }

    public void conj(Object v) {
        user.claim();
        try {
            if (conjInPlace(v)) return;
            user.pass();
            try {
                conjAny(v);
            } finally {
                user.leave();
            }
        } finally {
            user.unclaim();
        }
    }

    public void assocN(int i, Object v) {
        enter();
        try {
            assocNAlone(i, v);
        } finally {
            exit();
        }
    }

    public void pop() {
        enter();
        try {
            popAlone();
        } finally {
            exit();
        }
    }

    public Handle persistent() {
        enter();
        try {
            return persistentAlone();
        } finally {
            exit();
        }
    }

    void abandon() {
        enter();
        try {
            abandonAlone();
        } finally {
            exit();
        }
    }
}
